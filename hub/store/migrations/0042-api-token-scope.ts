/**
 * Migration 42: API tokens get a scope: `api` (the hub's API, what every token so far could do), `apps`
 * (workspace apps through the ingress, nothing else) or both, space-separated. Existing tokens keep `api`.
 */
export const sql = `
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'api' CHECK (scope IN ('api', 'apps', 'api apps'));
`;

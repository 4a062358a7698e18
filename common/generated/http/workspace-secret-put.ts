// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.

/**
 * Body of PUT /api/v1/workspaces/:name/secrets/:secret: the value (UTF-8 text, at most 64 KiB). Write-only: no answer ever shows it again.
 */
export interface WorkspaceSecretPut {
  /**
   * The secret's value.
   */
  value: string;
}

/** Migration 37: a join token may be made for one node name (taking over a node declared in Git needs one). */
export const sql = `
ALTER TABLE join_tokens ADD COLUMN node TEXT;
`;

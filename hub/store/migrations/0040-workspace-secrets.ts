/**
 * Migration 40: tenant secrets of workspaces, encrypted at rest to the hub's age recipient (armored age
 * file in `ciphertext`). Names, versions and times are not secret; values never appear unencrypted.
 */
export const sql = `
CREATE TABLE workspace_secrets (
  workspace TEXT NOT NULL,
  name TEXT NOT NULL,
  tenant TEXT NOT NULL,
  version INTEGER NOT NULL,
  ciphertext TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  PRIMARY KEY (workspace, name)
);
CREATE INDEX workspace_secrets_tenant ON workspace_secrets (tenant);
`;

/**
 * Migration 52: one key per encrypted volume (container volume or VM disk), stored as an age file
 * encrypted to the hub's own recipient (never plaintext), with the workspace's tenant and reclaim
 * policy as last seen, so keys of deleted workspaces (reclaimPolicy Delete) and tenants can be destroyed.
 */
export const sql = `
CREATE TABLE volume_keys (
  workspace TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('volume', 'vm-disk')),
  name TEXT NOT NULL,
  tenant TEXT NOT NULL,
  reclaim TEXT NOT NULL CHECK (reclaim IN ('Retain', 'Delete')),
  wrapped TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_for_node TEXT NOT NULL,
  PRIMARY KEY (workspace, kind, name)
);
CREATE INDEX volume_keys_tenant ON volume_keys (tenant);
`;

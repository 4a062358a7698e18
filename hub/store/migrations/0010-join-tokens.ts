/** Migration 10: join tokens (hashed, expiring, counted uses), node enrollments, and the hub's identity (URL, TLS pin). */
export const sql = `
CREATE TABLE join_tokens (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  profile TEXT NOT NULL,
  labels TEXT NOT NULL,
  max_uses INTEGER NOT NULL,
  uses INTEGER NOT NULL DEFAULT 0,
  expires_at TEXT NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE node_enrollments (
  node TEXT PRIMARY KEY,
  token_id TEXT NOT NULL REFERENCES join_tokens(id),
  hostname TEXT NOT NULL,
  profile TEXT NOT NULL,
  labels TEXT NOT NULL,
  inventory TEXT NOT NULL,
  node_file TEXT,
  enrolled_at TEXT NOT NULL
);
-- One row: what the running hub knows about itself, so \`foundry hub token create\` (offline, on the data
-- dir) can embed the hub's URL and certificate pin in tokens.
CREATE TABLE hub_identity (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  url TEXT,
  tls_pin TEXT,
  updated_at TEXT NOT NULL
);
`;

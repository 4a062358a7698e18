/** Migration 1: nodes, admin tokens, usage and status inboxes, telemetry (latest + per-minute rollups), audit log. */
export const sql = `
CREATE TABLE nodes (
  name TEXT PRIMARY KEY,
  credential_hash TEXT UNIQUE,
  status TEXT NOT NULL DEFAULT 'never-seen',
  last_seen_at TEXT,
  agent_version TEXT,
  applied_revision TEXT,
  inventory TEXT,
  revoked INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);
CREATE TABLE admin_tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  label TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  revoked INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);
-- Money: the hub de-duplicates by (node, seq); a resent record is ignored and acked again.
CREATE TABLE usage_records (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  node TEXT NOT NULL,
  seq INTEGER NOT NULL,
  payload TEXT NOT NULL,
  received_at TEXT NOT NULL,
  UNIQUE (node, seq)
);
-- Status transitions share the node's outbox sequence space with usage records.
CREATE TABLE status_events (
  node TEXT NOT NULL,
  seq INTEGER NOT NULL,
  payload TEXT NOT NULL,
  received_at TEXT NOT NULL,
  PRIMARY KEY (node, seq)
);
CREATE TABLE node_status (
  node TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  payload TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE telemetry_latest (
  node TEXT PRIMARY KEY,
  at INTEGER NOT NULL,
  payload TEXT NOT NULL
);
CREATE TABLE telemetry_rollups (
  node TEXT NOT NULL,
  minute INTEGER NOT NULL,
  samples INTEGER NOT NULL,
  gpu_util_sum REAL NOT NULL,
  gpu_util_samples INTEGER NOT NULL,
  gpu_mem_used_mib_sum REAL NOT NULL,
  host_cpu_sum REAL NOT NULL,
  host_cpu_samples INTEGER NOT NULL,
  PRIMARY KEY (node, minute)
);
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT,
  details TEXT
);
CREATE TABLE repo_revisions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  revision TEXT NOT NULL,
  ref TEXT,
  source TEXT NOT NULL,
  received_at TEXT NOT NULL
);
`;

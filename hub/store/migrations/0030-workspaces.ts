/** Migration 30: workspace lifecycle (current phase with the time of each phase) and its transitions. */
export const sql = `
CREATE TABLE workspace_lifecycle (
  name TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  phase TEXT NOT NULL,
  reason TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT '',
  node TEXT,
  revision TEXT,
  pending_at TEXT,
  placed_at TEXT,
  running_at TEXT,
  stopped_at TEXT,
  failed_at TEXT,
  deleted_at TEXT,
  updated_at TEXT NOT NULL
);
CREATE INDEX workspace_lifecycle_tenant ON workspace_lifecycle (tenant);
CREATE TABLE workspace_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  tenant TEXT NOT NULL,
  at TEXT NOT NULL,
  phase TEXT NOT NULL,
  reason TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX workspace_events_name ON workspace_events (name, id);
`;

/**
 * Migration 43: app sessions of the ingress. A one-time login code (hashed, single use, short-lived) carries a
 * dashboard session to one app host; redeemed there it becomes an app session (its own random token, hashed),
 * bound to that host and to the dashboard session: logging out or expiring the dashboard session ends it.
 */
export const sql = `
CREATE TABLE app_login_codes (
  code_hash TEXT PRIMARY KEY,
  session_hash TEXT NOT NULL REFERENCES sessions(id_hash) ON DELETE CASCADE,
  host TEXT NOT NULL,
  rd TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE TABLE app_sessions (
  id_hash TEXT PRIMARY KEY,
  session_hash TEXT NOT NULL REFERENCES sessions(id_hash) ON DELETE CASCADE,
  host TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX app_sessions_session ON app_sessions (session_hash);
CREATE INDEX app_login_codes_session ON app_login_codes (session_hash);
`;

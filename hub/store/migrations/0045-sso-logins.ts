/**
 * Migration 45: single sign-on logins in flight. An OIDC (or SAML) login started by this hub: its state
 * (hashed), the browser it belongs to (hash of a cookie value), the nonce and PKCE verifier, consumed at
 * the callback (a replayed callback finds nothing). A TOTP step-up waiting for its code, by ticket hash.
 */
export const sql = `
CREATE TABLE sso_logins (
  state_hash TEXT PRIMARY KEY,
  provider TEXT NOT NULL,
  binding_hash TEXT NOT NULL,
  nonce TEXT NOT NULL,
  code_verifier TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE TABLE sso_step_ups (
  ticket_hash TEXT PRIMARY KEY,
  user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
  provider TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
`;

/**
 * Migration 44: single sign-on users and roles. Tenant users get a tenant role (member, or admin of
 * its tenant); SSO users are linked to their provider and subject (unique) and keep the groups of their
 * last login, so their sessions can be checked against the current mappings; sessions remember the
 * provider they came from; API tokens may expire and belong to a user (short-lived tokens of SSO users).
 * SSO users have no password: their password_hash is a marker no password matches.
 */
export const sql = `
ALTER TABLE users ADD COLUMN tenant_role TEXT NOT NULL DEFAULT 'member' CHECK (tenant_role IN ('admin', 'member'));
ALTER TABLE users ADD COLUMN sso_provider TEXT;
ALTER TABLE users ADD COLUMN sso_subject TEXT;
ALTER TABLE users ADD COLUMN sso_groups TEXT;
ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE users ADD COLUMN display_name TEXT;
CREATE UNIQUE INDEX users_sso ON users (sso_provider, sso_subject) WHERE sso_provider IS NOT NULL;
ALTER TABLE sessions ADD COLUMN sso_provider TEXT;
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
ALTER TABLE api_tokens ADD COLUMN user TEXT;
`;

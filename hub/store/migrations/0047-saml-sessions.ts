/**
 * Migration 47: what single logout needs of a user's last SAML sign-in at each provider (the IdP's NameID
 * with its qualifiers and its SessionIndex), so /auth/logout can end the IdP's session too.
 */
export const sql = `
CREATE TABLE saml_sessions (
  provider TEXT NOT NULL,
  subject TEXT NOT NULL,
  name_id_format TEXT,
  name_qualifier TEXT,
  sp_name_qualifier TEXT,
  session_index TEXT,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (provider, subject)
);
`;

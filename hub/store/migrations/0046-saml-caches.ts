/**
 * Migration 46: SAML's two caches, in the store so they hold across hub restarts (and, on a shared
 * database, across replicas): the AuthnRequest IDs the hub issued (a response's InResponseTo must name one,
 * once; under TLS bound to the browser that started the sign-in) and the IDs of assertions already accepted (a replayed assertion is refused until it expires).
 */
export const sql = `
CREATE TABLE saml_requests (
  provider TEXT NOT NULL,
  id TEXT NOT NULL,
  binding_hash TEXT,
  created_at TEXT NOT NULL,
  PRIMARY KEY (provider, id)
);
CREATE INDEX saml_requests_created ON saml_requests (created_at);
CREATE TABLE saml_assertions (
  provider TEXT NOT NULL,
  id TEXT NOT NULL,
  subject TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  accepted_at TEXT NOT NULL,
  PRIMARY KEY (provider, id)
);
CREATE INDEX saml_assertions_expires ON saml_assertions (expires_at);
`;

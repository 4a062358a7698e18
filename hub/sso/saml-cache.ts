/**
 * SAML's state in the hub store, so it survives a hub restart: the AuthnRequest IDs the hub issued, as
 * node-saml's CacheProvider (InResponseTo must name one of them, not yet used and not expired), and the
 * IDs of the assertions already accepted (the replay cache), both migration 46; and the IdP session of
 * each user's last sign-in, for single logout (migration 47).
 */
import type Database from 'better-sqlite3';
import type { CacheItem, CacheProvider } from '@node-saml/node-saml';
import { hashSecret } from '../auth/secrets.js';

/** How long an AuthnRequest ID stays valid: the time a user has to sign in at the IdP. */
export const REQUEST_ID_TTL_MS = 10 * 60_000;

/**
 * node-saml's CacheProvider for one provider's AuthnRequest IDs, backed by the saml_requests table.
 * Entries older than `ttlMs` read as absent and are removed by the next save. With a `binding` (a random
 * value in a cookie of the browser that started the sign-in), saved IDs are bound to it, and an ID bound
 * to another browser reads as absent (`bindingMismatch` then says why): a response obtained by someone
 * else cannot be pushed into a victim's browser (login CSRF).
 */
export class DbRequestCache implements CacheProvider {
  /** Set when a lookup found the ID but bound to another browser (or to none sent). */
  bindingMismatch = false;

  constructor(
    private readonly db: Database.Database,
    private readonly provider: string,
    private readonly now: () => Date = () => new Date(),
    private readonly binding?: string,
    private readonly ttlMs = REQUEST_ID_TTL_MS,
  ) {}

  /** Records an issued request ID; `value` is node-saml's issue instant. */
  async saveAsync(key: string, value: string): Promise<CacheItem | null> {
    const at = this.now();
    this.db.prepare('DELETE FROM saml_requests WHERE created_at <= ?').run(new Date(at.getTime() - this.ttlMs).toISOString());
    const r = this.db
      .prepare('INSERT OR IGNORE INTO saml_requests (provider, id, binding_hash, created_at) VALUES (?, ?, ?, ?)')
      .run(this.provider, key, this.binding === undefined ? null : hashSecret(this.binding), at.toISOString());
    return r.changes === 0 ? null : { value, createdAt: at.getTime() };
  }

  /** The request's issue instant when it is known, not expired and (if bound) bound to this browser, else null. */
  async getAsync(key: string): Promise<string | null> {
    const r = this.db.prepare('SELECT binding_hash, created_at FROM saml_requests WHERE provider = ? AND id = ?').get(this.provider, key) as { binding_hash: string | null; created_at: string } | undefined;
    if (r === undefined || this.now().getTime() - Date.parse(r.created_at) >= this.ttlMs) return null;
    if (r.binding_hash !== null && (this.binding === undefined || hashSecret(this.binding) !== r.binding_hash)) {
      this.bindingMismatch = true;
      return null;
    }
    return r.created_at;
  }

  /** Forgets a request ID (node-saml calls this once a response naming it was handled, accepted or not). */
  async removeAsync(key: string | null): Promise<string | null> {
    if (key === null) return null;
    const r = this.db.prepare('DELETE FROM saml_requests WHERE provider = ? AND id = ? RETURNING created_at').get(this.provider, key) as { created_at: string } | undefined;
    return r?.created_at ?? null;
  }
}

/** True when an assertion with this ID was already accepted from `provider` (and is not expired yet). */
export function assertionSeen(db: Database.Database, provider: string, id: string): boolean {
  return db.prepare('SELECT 1 FROM saml_assertions WHERE provider = ? AND id = ?').get(provider, id) !== undefined;
}

/**
 * Records an accepted assertion until `expiresAt` (its NotOnOrAfter); false when its ID was already
 * recorded, i.e. the assertion is replayed. Expired entries are pruned here: an assertion past its
 * NotOnOrAfter is refused by its validity window anyway.
 */
export function recordAssertion(db: Database.Database, entry: { provider: string; id: string; subject: string; expiresAt: Date }, now: Date): boolean {
  db.prepare('DELETE FROM saml_assertions WHERE expires_at < ?').run(now.toISOString());
  const r = db
    .prepare('INSERT OR IGNORE INTO saml_assertions (provider, id, subject, expires_at, accepted_at) VALUES (?, ?, ?, ?, ?)')
    .run(entry.provider, entry.id, entry.subject, entry.expiresAt.toISOString(), now.toISOString());
  return r.changes === 1;
}

/** What a LogoutRequest names: the user's NameID as the IdP sent it, and the IdP's session. */
export interface SamlSession {
  nameID: string;
  nameIDFormat: string | null;
  nameQualifier: string | null;
  spNameQualifier: string | null;
  sessionIndex: string | null;
}

/** Remembers the IdP session of `subject`'s latest sign-in at `provider` (the last one wins). */
export function rememberSamlSession(db: Database.Database, provider: string, s: SamlSession, now: Date): void {
  db.prepare(
    `INSERT INTO saml_sessions (provider, subject, name_id_format, name_qualifier, sp_name_qualifier, session_index, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (provider, subject) DO UPDATE SET name_id_format = excluded.name_id_format, name_qualifier = excluded.name_qualifier,
       sp_name_qualifier = excluded.sp_name_qualifier, session_index = excluded.session_index, updated_at = excluded.updated_at`,
  ).run(provider, s.nameID, s.nameIDFormat, s.nameQualifier, s.spNameQualifier, s.sessionIndex, now.toISOString());
}

/** The IdP session remembered for `subject` at `provider`, and forgets it (a logout uses it once). */
export function takeSamlSession(db: Database.Database, provider: string, subject: string): SamlSession | undefined {
  const r = db.prepare('DELETE FROM saml_sessions WHERE provider = ? AND subject = ? RETURNING name_id_format, name_qualifier, sp_name_qualifier, session_index').get(provider, subject) as
    | { name_id_format: string | null; name_qualifier: string | null; sp_name_qualifier: string | null; session_index: string | null }
    | undefined;
  return r === undefined ? undefined : { nameID: subject, nameIDFormat: r.name_id_format, nameQualifier: r.name_qualifier, spNameQualifier: r.sp_name_qualifier, sessionIndex: r.session_index };
}

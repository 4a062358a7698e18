/**
 * Dashboard sessions in the store, by the hash of their cookie value (the value itself is never stored):
 * the user, the CSRF token, the client address, the idle and absolute limits. The rules (limits, touch at
 * most once a minute) stay in hub/auth/sessions.ts; reading a session is one query, as it runs on every request.
 */
import type { Sql } from './sql/sql.js';

/** A session as stored. */
export interface SessionRecord {
  user: string;
  csrfToken: string;
  ip: string | null;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  /** The identity provider of a single sign-on session. */
  ssoProvider: string | null;
}

/** The dashboard sessions of the store. */
export interface SessionsRepo {
  /** Stores a new session (its last use is its creation). */
  insert(idHash: string, s: Omit<SessionRecord, 'lastSeenAt'>): Promise<void>;
  /** A session by the hash of its id, live or not. */
  get(idHash: string): Promise<SessionRecord | undefined>;
  /** Records a use of the session at `at`. */
  touch(idHash: string, at: string): Promise<void>;
  /** Removes a session; false when there was none. */
  delete(idHash: string): Promise<boolean>;
  /** Removes the sessions that expired by `expiredBy` or were last used by `idleSince`; returns how many. */
  prune(expiredBy: string, idleSince: string): Promise<number>;
}

type Row = { user: string; csrf_token: string; ip: string | null; created_at: string; last_seen_at: string; expires_at: string; sso_provider: string | null };

/** SessionsRepo over the Sql interface. */
export class SqlSessionsRepo implements SessionsRepo {
  constructor(private readonly sql: Sql) {}

  async insert(idHash: string, s: Omit<SessionRecord, 'lastSeenAt'>): Promise<void> {
    await this.sql.run('INSERT INTO sessions (id_hash, "user", csrf_token, ip, created_at, last_seen_at, expires_at, sso_provider) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
      idHash, s.user, s.csrfToken, s.ip, s.createdAt, s.createdAt, s.expiresAt, s.ssoProvider,
    ]);
  }

  async get(idHash: string): Promise<SessionRecord | undefined> {
    const r = await this.sql.get<Row>('SELECT "user", csrf_token, ip, created_at, last_seen_at, expires_at, sso_provider FROM sessions WHERE id_hash = ?', [idHash]);
    return r === undefined ? undefined : { user: r.user, csrfToken: r.csrf_token, ip: r.ip, createdAt: r.created_at, lastSeenAt: r.last_seen_at, expiresAt: r.expires_at, ssoProvider: r.sso_provider };
  }

  async touch(idHash: string, at: string): Promise<void> {
    await this.sql.run('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?', [at, idHash]);
  }

  async delete(idHash: string): Promise<boolean> {
    return (await this.sql.run('DELETE FROM sessions WHERE id_hash = ?', [idHash])).changes === 1;
  }

  async prune(expiredBy: string, idleSince: string): Promise<number> {
    return (await this.sql.run('DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?', [expiredBy, idleSince])).changes;
  }
}

/**
 * Dashboard sessions: a random id in an HttpOnly, SameSite=Strict cookie (Secure under TLS), stored as
 * its SHA-256 hash with a per-session CSRF token, the client IP, an idle timeout and an absolute lifetime.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { hashSecret } from './secrets.js';

/** Cookie that carries the session id. */
export const SESSION_COOKIE = 'foundry_session';
/** Header the dashboard echoes the CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';
/** Idle timeout and absolute lifetime. */
export const SESSION_LIMITS = { idleMs: 8 * 3600_000, maxMs: 7 * 24 * 3600_000 };

/** A live session. */
export interface Session {
  user: string;
  csrfToken: string;
  ip: string | null;
  createdAt: string;
  /** The identity provider of a single sign-on session. */
  ssoProvider: string | null;
}

/** Absolute lifetime of a single sign-on session: the IdP is asked again at least this often. */
export const SSO_SESSION_MAX_MS = 12 * 3600_000;

/**
 * Opens a session for `user`; returns the cookie value (shown to the browser only) and the CSRF token.
 * `sso` names the identity provider of a single sign-on session (which then lives at most SSO_SESSION_MAX_MS).
 */
export function openSession(db: Database.Database, user: string, ip: string | undefined, now: Date, sso?: { provider: string }): { id: string; csrfToken: string } {
  const id = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  const at = now.toISOString();
  db.prepare('INSERT INTO sessions (id_hash, user, csrf_token, ip, created_at, last_seen_at, expires_at, sso_provider) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
    hashSecret(id),
    user,
    csrfToken,
    ip ?? null,
    at,
    at,
    new Date(now.getTime() + (sso === undefined ? SESSION_LIMITS.maxMs : SSO_SESSION_MAX_MS)).toISOString(),
    sso?.provider ?? null,
  );
  return { id, csrfToken };
}

/** The session of a cookie value when live (touching its idle timer), else undefined. */
export function findSession(db: Database.Database, id: string, now: Date): Session | undefined {
  const r = db.prepare('SELECT user, csrf_token, ip, created_at, last_seen_at, expires_at, sso_provider FROM sessions WHERE id_hash = ?').get(hashSecret(id)) as
    | { user: string; csrf_token: string; ip: string | null; created_at: string; last_seen_at: string; expires_at: string; sso_provider: string | null }
    | undefined;
  if (r === undefined) return undefined;
  const t = now.getTime();
  if (t >= Date.parse(r.expires_at) || t - Date.parse(r.last_seen_at) >= SESSION_LIMITS.idleMs) {
    db.prepare('DELETE FROM sessions WHERE id_hash = ?').run(hashSecret(id));
    return undefined;
  }
  // Touch at most once a minute: every API call of an open dashboard would otherwise be a write.
  if (t - Date.parse(r.last_seen_at) > 60_000) db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?').run(now.toISOString(), hashSecret(id));
  return { user: r.user, csrfToken: r.csrf_token, ip: r.ip, createdAt: r.created_at, ssoProvider: r.sso_provider };
}

/** Ends a session (logout). */
export function closeSession(db: Database.Database, id: string): void {
  db.prepare('DELETE FROM sessions WHERE id_hash = ?').run(hashSecret(id));
}

/** Removes expired sessions; returns how many. */
export function pruneSessions(db: Database.Database, now: Date): number {
  return db.prepare('DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?').run(now.toISOString(), new Date(now.getTime() - SESSION_LIMITS.idleMs).toISOString()).changes;
}

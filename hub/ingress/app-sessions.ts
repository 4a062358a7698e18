/**
 * App sessions of the ingress. A dashboard session is carried to one app host by a one-time login code
 * (single use, 60 s, stored hashed); redeemed on that host it becomes an app session: a random token of its
 * own in the host-only cookie `foundry_app`, stored hashed, bound to the host and to the dashboard session
 * (it ends with it: logout, expiry, idle timeout). Statements are prepared once: `find` is on the path of
 * every uncached app request.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { hashSecret } from '../auth/secrets.js';
import { SESSION_LIMITS } from '../auth/sessions.js';

/** Cookie that carries the app session on an app host. */
export const APP_COOKIE = 'foundry_app';
/** How long a login code may be redeemed. */
export const CODE_TTL_MS = 60_000;

/** A live app session: who, and which dashboard session it rides on. */
export interface AppSession {
  user: string;
  sessionHash: string;
  expiresAt: string;
  /** The identity provider of the dashboard session behind it (null: a local login): SSO sessions are re-checked against its mapping. */
  ssoProvider: string | null;
}

interface FoundRow { user: string; sso_provider: string | null; session_hash: string; host: string; expires_at: string; s_expires_at: string; s_last_seen_at: string }

/** Login codes and app sessions in the hub store's database. */
export class AppSessions {
  private readonly q;

  constructor(private readonly db: Database.Database) {
    this.q = {
      insertCode: db.prepare('INSERT INTO app_login_codes (code_hash, session_hash, host, rd, expires_at) VALUES (?, ?, ?, ?, ?)'),
      takeCode: db.prepare('DELETE FROM app_login_codes WHERE code_hash = ? RETURNING session_hash, host, rd, expires_at'),
      session: db.prepare('SELECT user, expires_at, last_seen_at FROM sessions WHERE id_hash = ?'),
      insert: db.prepare('INSERT INTO app_sessions (id_hash, session_hash, host, created_at, expires_at) VALUES (?, ?, ?, ?, ?)'),
      find: db.prepare(
        'SELECT s.user, s.sso_provider, a.session_hash, a.host, a.expires_at, s.expires_at AS s_expires_at, s.last_seen_at AS s_last_seen_at FROM app_sessions a JOIN sessions s ON s.id_hash = a.session_hash WHERE a.id_hash = ?',
      ),
      touch: db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?'),
      close: db.prepare('DELETE FROM app_sessions WHERE id_hash = ?'),
      pruneCodes: db.prepare('DELETE FROM app_login_codes WHERE expires_at <= ?'),
      pruneSessions: db.prepare('DELETE FROM app_sessions WHERE expires_at <= ?'),
    };
  }

  /** A one-time code that opens an app session on `host` for the dashboard session `sessionId` (its cookie value), returning to `rd`. */
  issueCode(sessionId: string, host: string, rd: string, now: Date): string {
    const code = randomBytes(32).toString('base64url');
    this.q.insertCode.run(hashSecret(code), hashSecret(sessionId), host, rd, new Date(now.getTime() + CODE_TTL_MS).toISOString());
    return code;
  }

  /**
   * Redeems a code on `host`: consumed on first use whatever the outcome; opens the app session when the code
   * was issued for this host, has not expired and its dashboard session is still live. Returns the new
   * session's token (the cookie value), its user and expiry, and the stored path to return to.
   */
  redeem(code: string, host: string, now: Date): { token: string; user: string; expiresAt: Date; rd: string } | undefined {
    const c = this.q.takeCode.get(hashSecret(code)) as { session_hash: string; host: string; rd: string; expires_at: string } | undefined;
    const t = now.getTime();
    if (c === undefined || c.host !== host || t >= Date.parse(c.expires_at)) return undefined;
    const s = this.q.session.get(c.session_hash) as { user: string; expires_at: string; last_seen_at: string } | undefined;
    if (s === undefined || !live(s.expires_at, s.last_seen_at, t)) return undefined;
    const token = randomBytes(32).toString('base64url');
    // Bounded by the dashboard session: never outlives its absolute lifetime (the join in find enforces the rest).
    const expiresAt = new Date(Date.parse(s.expires_at));
    this.q.insert.run(hashSecret(token), c.session_hash, host, now.toISOString(), expiresAt.toISOString());
    return { token, user: s.user, expiresAt, rd: c.rd };
  }

  /** The app session of a cookie value on `host` when it and its dashboard session are live (touching the dashboard session's idle timer), else undefined. */
  find(token: string, host: string, now: Date): AppSession | undefined {
    const r = this.q.find.get(hashSecret(token)) as FoundRow | undefined;
    const t = now.getTime();
    if (r === undefined || r.host !== host || t >= Date.parse(r.expires_at) || !live(r.s_expires_at, r.s_last_seen_at, t)) return undefined;
    // Working in an app is activity: it keeps the dashboard session from idling out (a write at most once a minute).
    if (t - Date.parse(r.s_last_seen_at) > 60_000) this.q.touch.run(now.toISOString(), r.session_hash);
    return { user: r.user, sessionHash: r.session_hash, expiresAt: r.expires_at, ssoProvider: r.sso_provider };
  }

  /** Ends one app session (app logout); false when there was none. */
  close(token: string): boolean {
    return this.q.close.run(hashSecret(token)).changes === 1;
  }

  /** Removes expired codes and app sessions; returns how many rows. */
  prune(now: Date): number {
    const at = now.toISOString();
    return this.q.pruneCodes.run(at).changes + this.q.pruneSessions.run(at).changes;
  }
}

function live(expiresAt: string, lastSeenAt: string, t: number): boolean {
  return t < Date.parse(expiresAt) && t - Date.parse(lastSeenAt) < SESSION_LIMITS.idleMs;
}

/**
 * App sessions of the ingress. A dashboard session is carried to one app host by a one-time login code
 * (single use, 60 s, stored hashed); redeemed on that host it becomes an app session: a random token of its
 * own in the host-only cookie `foundry_app`, stored hashed, bound to the host and to the dashboard session
 * (it ends with it: logout, expiry, idle timeout). `find` is on the path of every uncached app request: one
 * query (a write besides at most once a minute).
 */
import { randomBytes } from 'node:crypto';
import { hashSecret } from '../auth/secrets.js';
import { SESSION_LIMITS } from '../auth/sessions.js';
import type { AppSessionsRepo } from '../store/app-sessions-repo.js';

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

/** Login codes and app sessions, over the store's repository (hashing and the liveness rules stay here). */
export class AppSessions {
  constructor(private readonly repo: AppSessionsRepo) {}

  /** A one-time code that opens an app session on `host` for the dashboard session `sessionId` (its cookie value), returning to `rd`. */
  async issueCode(sessionId: string, host: string, rd: string, now: Date): Promise<string> {
    const code = randomBytes(32).toString('base64url');
    await this.repo.insertCode(hashSecret(code), hashSecret(sessionId), host, rd, new Date(now.getTime() + CODE_TTL_MS).toISOString());
    return code;
  }

  /**
   * Redeems a code on `host`: consumed on first use whatever the outcome; opens the app session when the code
   * was issued for this host, has not expired and its dashboard session is still live. Returns the new
   * session's token (the cookie value), its user and expiry, and the stored path to return to.
   */
  async redeem(code: string, host: string, now: Date): Promise<{ token: string; user: string; expiresAt: Date; rd: string } | undefined> {
    const c = await this.repo.takeCode(hashSecret(code));
    const t = now.getTime();
    if (c === undefined || c.host !== host || t >= Date.parse(c.expiresAt)) return undefined;
    const s = await this.repo.dashboardSession(c.sessionHash);
    if (s === undefined || !live(s.expiresAt, s.lastSeenAt, t)) return undefined;
    const token = randomBytes(32).toString('base64url');
    // Bounded by the dashboard session: never outlives its absolute lifetime (the join in find enforces the rest).
    const expiresAt = new Date(Date.parse(s.expiresAt));
    await this.repo.insert(hashSecret(token), c.sessionHash, host, now.toISOString(), expiresAt.toISOString());
    return { token, user: s.user, expiresAt, rd: c.rd };
  }

  /** The app session of a cookie value on `host` when it and its dashboard session are live (touching the dashboard session's idle timer), else undefined. */
  async find(token: string, host: string, now: Date): Promise<AppSession | undefined> {
    const r = await this.repo.find(hashSecret(token));
    const t = now.getTime();
    if (r === undefined || r.host !== host || t >= Date.parse(r.expiresAt) || !live(r.sessionExpiresAt, r.sessionLastSeenAt, t)) return undefined;
    // Working in an app is activity: it keeps the dashboard session from idling out (a write at most once a minute).
    if (t - Date.parse(r.sessionLastSeenAt) > 60_000) await this.repo.touch(r.sessionHash, now.toISOString());
    return { user: r.user, sessionHash: r.sessionHash, expiresAt: r.expiresAt, ssoProvider: r.ssoProvider };
  }

  /** Ends one app session (app logout); false when there was none. */
  close(token: string): Promise<boolean> {
    return this.repo.close(hashSecret(token));
  }

  /** Removes expired codes and app sessions; returns how many rows. */
  prune(now: Date): Promise<number> {
    return this.repo.prune(now.toISOString());
  }
}

function live(expiresAt: string, lastSeenAt: string, t: number): boolean {
  return t < Date.parse(expiresAt) && t - Date.parse(lastSeenAt) < SESSION_LIMITS.idleMs;
}

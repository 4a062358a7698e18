/**
 * Dashboard sessions: a random id in an HttpOnly, SameSite=Strict cookie (Secure under TLS), stored as
 * its SHA-256 hash with a per-session CSRF token, the client IP, an idle timeout and an absolute lifetime.
 */
import { randomBytes } from 'node:crypto';
import type { SessionsRepo } from '../store/sessions-repo.js';
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
export async function openSession(sessions: SessionsRepo, user: string, ip: string | undefined, now: Date, sso?: { provider: string }): Promise<{ id: string; csrfToken: string }> {
  const id = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  await sessions.insert(hashSecret(id), {
    user,
    csrfToken,
    ip: ip ?? null,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + (sso === undefined ? SESSION_LIMITS.maxMs : SSO_SESSION_MAX_MS)).toISOString(),
    ssoProvider: sso?.provider ?? null,
  });
  return { id, csrfToken };
}

/** The session of a cookie value when live (touching its idle timer), else undefined. */
export async function findSession(sessions: SessionsRepo, id: string, now: Date): Promise<Session | undefined> {
  const idHash = hashSecret(id);
  const r = await sessions.get(idHash);
  if (r === undefined) return undefined;
  const t = now.getTime();
  if (t >= Date.parse(r.expiresAt) || t - Date.parse(r.lastSeenAt) >= SESSION_LIMITS.idleMs) {
    await sessions.delete(idHash);
    return undefined;
  }
  // Touch at most once a minute: every API call of an open dashboard would otherwise be a write.
  if (t - Date.parse(r.lastSeenAt) > 60_000) await sessions.touch(idHash, now.toISOString());
  return { user: r.user, csrfToken: r.csrfToken, ip: r.ip, createdAt: r.createdAt, ssoProvider: r.ssoProvider };
}

/** Ends a session (logout). */
export async function closeSession(sessions: SessionsRepo, id: string): Promise<void> {
  await sessions.delete(hashSecret(id));
}

/** Removes expired sessions; returns how many. */
export function pruneSessions(sessions: SessionsRepo, now: Date): Promise<number> {
  return sessions.prune(now.toISOString(), new Date(now.getTime() - SESSION_LIMITS.idleMs).toISOString());
}

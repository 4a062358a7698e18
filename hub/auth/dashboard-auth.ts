/**
 * Wires dashboard authentication into the app: the cookie parser, the session and API-token
 * authenticators (after admin tokens), CSRF protection of every state-changing request made with a
 * session cookie, and the client address on every audit entry written while handling a request.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { timingSafeEqual } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import type Database from 'better-sqlite3';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from './principal.js';
import { tokenFromAuthorization } from './secrets.js';
import { authenticateApiToken, type ApiTokenRow } from './api-tokens.js';
import { CSRF_HEADER, SESSION_COOKIE, findSession, pruneSessions, type Session } from './sessions.js';
import { getUser } from './users.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The dashboard session of the request's cookie, when live. */
    dashboardSession?: Session & { id: string };
  }
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** True when an Origin header, if sent, names this host (browsers send it on every cross-site POST). */
function originMatches(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (origin === undefined || origin === 'null') return origin === undefined;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** Installs dashboard auth on `app` (call once, after installAuth). */
export async function installDashboardAuth(app: FastifyInstance, options: { now?: () => Date } = {}): Promise<void> {
  const now = options.now ?? (() => new Date());
  const db = app.hub.store.db;
  await app.register(fastifyCookie);

  const clientIp = new AsyncLocalStorage<string>();
  const audit = app.hub.store.audit.bind(app.hub.store);
  app.hub.store.audit = (actor, action, target, details) => {
    // The hub's own actions (placement, lifecycle) may run inside some request; they have no client.
    const ip = actor === 'foundry-hub' ? undefined : clientIp.getStore();
    audit(actor, action, target, ip === undefined || details?.ip !== undefined ? details : { ...details, ip });
  };

  // Expired sessions are refused when used; this only keeps the table small.
  const prune = setInterval(() => pruneSessions(db, now()), 3600_000);
  prune.unref();
  app.addHook('onClose', async () => clearInterval(prune));

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    clientIp.enterWith(req.ip);
    const id = req.cookies[SESSION_COOKIE];
    if (id !== undefined && id !== '') {
      const s = findSession(db, id, now());
      if (s !== undefined) req.dashboardSession = { ...s, id };
    }
    if (SAFE.has(req.method)) return;
    if (!originMatches(req)) {
      await reply.code(403).send({ code: 'AUTH_CSRF', message: 'cross-origin request refused' });
      return;
    }
    // A cookie rides along on any request the browser makes; the header proves the page itself sent it.
    if (req.dashboardSession !== undefined) {
      const sent = req.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || !sameToken(sent, req.dashboardSession.csrfToken)) {
        await reply.code(403).send({ code: 'AUTH_CSRF', message: `missing or wrong ${CSRF_HEADER} header` });
      }
    }
  });

  app.authenticators.push(
    (req): Principal | undefined => {
      const token = tokenFromAuthorization(req.headers.authorization);
      const row = token === undefined ? undefined : authenticateApiToken(db, token, now());
      return row === undefined ? undefined : tokenPrincipal(row);
    },
    (req): Principal | undefined => {
      const s = req.dashboardSession;
      return s === undefined ? undefined : sessionPrincipal(db, s.user);
    },
  );
}

/** The principal of an API token's row. */
export function tokenPrincipal(row: ApiTokenRow): Principal {
  return row.role === 'admin' ? { role: 'admin', subject: `token:${row.label}`, via: 'api-token' } : { role: 'tenant', subject: `token:${row.label}`, tenant: row.tenant ?? '', via: 'api-token' };
}

/** The principal of a live dashboard session's user, or undefined when that user may not act (gone, no second factor yet). */
export function sessionPrincipal(db: Database.Database, userName: string): Principal | undefined {
  const user = getUser(db, userName);
  if (user === undefined || !user.totpEnabled) return undefined;
  return user.role === 'admin' ? { role: 'admin', subject: user.name, via: 'session' } : { role: 'tenant', subject: user.name, tenant: user.tenant ?? '', via: 'session' };
}

/**
 * Wires dashboard authentication into the app: the cookie parser, the session and API-token
 * authenticators (after admin tokens), CSRF protection of every state-changing request made with a
 * session cookie, and the client address on every audit entry written while handling a request.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { timingSafeEqual } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from './principal.js';
import { tokenFromAuthorization } from './secrets.js';
import { authenticateApiToken } from './api-tokens.js';
import { CSRF_HEADER, SESSION_COOKIE, findSession, pruneSessions, type Session } from './sessions.js';
import { getUser, type User } from './users.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route takes POSTs from another site (SAML ACS): no Origin check, and it must not rely on the session cookie. */
    crossSitePost?: boolean;
  }
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

/** Options of installDashboardAuth. */
export interface DashboardAuthOptions {
  now?: () => Date;
  /** Whether a user still has access (SSO users: their provider's current mappings); without it SSO users have none. */
  ssoAccess?: (user: User) => Promise<boolean>;
}

/** The principal of a user: admin, or tenant with its tenant role. */
export function userPrincipal(user: User, via: Principal['via'], subject = user.name): Principal {
  return user.role === 'admin' ? { role: 'admin', subject, via } : { role: 'tenant', subject, tenant: user.tenant ?? '', tenantRole: user.tenantRole, via };
}

/** Installs dashboard auth on `app` (call once, after installAuth). */
export async function installDashboardAuth(app: FastifyInstance, options: DashboardAuthOptions = {}): Promise<void> {
  const now = options.now ?? (() => new Date());
  const ssoAccess = options.ssoAccess ?? (async (user: User) => user.sso === undefined);
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
    // A route that receives posts from another site by design (SAML's HTTP-POST binding) says so; its body is its own proof.
    if ((req.routeOptions.config as { crossSitePost?: boolean } | undefined)?.crossSitePost === true) return;
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
    async (req): Promise<Principal | undefined> => {
      const token = tokenFromAuthorization(req.headers.authorization);
      const row = token === undefined ? undefined : authenticateApiToken(db, token, now());
      if (row === undefined) return undefined;
      if (row.user !== null) {
        // A short-lived token acts for its user, as long as that user keeps access.
        const user = getUser(db, row.user);
        if (user === undefined || !(await ssoAccess(user))) return undefined;
        return userPrincipal(user, 'api-token');
      }
      return row.role === 'admin' ? { role: 'admin', subject: `token:${row.label}`, via: 'api-token' } : { role: 'tenant', subject: `token:${row.label}`, tenant: row.tenant ?? '', via: 'api-token' };
    },
    async (req): Promise<Principal | undefined> => {
      const s = req.dashboardSession;
      const user = s === undefined ? undefined : getUser(db, s.user);
      if (s === undefined || user === undefined) return undefined;
      if (user.sso !== undefined) {
        // SSO sessions are checked against the provider's current mappings at each use.
        if (s.ssoProvider !== user.sso.provider || !(await ssoAccess(user))) return undefined;
        return userPrincipal(user, 'session');
      }
      if (!user.totpEnabled) return undefined;
      return userPrincipal(user, 'session');
    },
  );
}

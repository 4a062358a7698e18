/**
 * Wires dashboard authentication into the app: the cookie parser, the session and API-token
 * authenticators (after admin tokens), CSRF protection of every state-changing request made with a
 * session cookie, and the client address on every audit entry written while handling a request.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { timingSafeEqual } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { UsersRepo } from '../store/users-repo.js';
import type { HubStore } from '../store/hub-store.js';
import type { Principal } from './principal.js';
import { tokenFromAuthorization } from './secrets.js';
import { authenticateApiToken, type ApiTokenRow } from './api-tokens.js';
import { CSRF_HEADER, SESSION_COOKIE, findSession, pruneSessions, type Session } from './sessions.js';
import { getUser, type User } from './users.js';

/** Whether a user may act now: SSO users while their provider's current mappings still give them their role and tenant; local users always. */
export type UserAccess = (user: User) => Promise<boolean>;

declare module 'fastify' {
  interface FastifyInstance {
    /** The access check every credential of a user passes (dashboard, API, workspace app gateway); set by installDashboardAuth. */
    userAccess: UserAccess;
  }
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
  ssoAccess?: UserAccess;
}

/** The principal of a user: admin, or tenant with its tenant role. */
export function userPrincipal(user: User, via: Principal['via'], subject = user.name): Principal {
  return user.role === 'admin' ? { role: 'admin', subject, via } : { role: 'tenant', subject, tenant: user.tenant ?? '', tenantRole: user.tenantRole, via };
}

/**
 * The principal of a live dashboard session (from the `sessions` table), or undefined when its user may not
 * act: gone, an SSO session whose user now belongs to another provider or lost its mapping (`access`), a
 * local user without a second factor. The one rule for sessions wherever they are used (API, dashboard,
 * the workspace app gateway's app sessions that ride on a dashboard session).
 */
export async function sessionPrincipal(users: UsersRepo, session: Pick<Session, 'user' | 'ssoProvider'>, access: UserAccess): Promise<Principal | undefined> {
  const user = await getUser(users, session.user);
  if (user === undefined) return undefined;
  if (user.sso !== undefined) {
    // SSO sessions are checked against the provider's current mappings at each use; their MFA was the IdP's or the step-up's.
    if (session.ssoProvider !== user.sso.provider || !(await access(user))) return undefined;
    return userPrincipal(user, 'session');
  }
  if (session.ssoProvider !== null || !user.totpEnabled) return undefined;
  return userPrincipal(user, 'session');
}

/**
 * The principal of an authenticated API token: an automation token by its own role and tenant; a
 * short-lived token (POST /api/v1/auth/token) as its user, and only while that user keeps access.
 */
export async function tokenPrincipal(users: UsersRepo, row: ApiTokenRow, access: UserAccess): Promise<Principal | undefined> {
  if (row.user !== null) {
    const user = await getUser(users, row.user);
    if (user === undefined || !(await access(user))) return undefined;
    return userPrincipal(user, 'api-token');
  }
  return row.role === 'admin' ? { role: 'admin', subject: `token:${row.label}`, via: 'api-token' } : { role: 'tenant', subject: `token:${row.label}`, tenant: row.tenant ?? '', via: 'api-token' };
}

/** Installs dashboard auth on `app` (call once, after installAuth); decorates `app.userAccess`. */
export async function installDashboardAuth(app: FastifyInstance, store: HubStore, options: DashboardAuthOptions = {}): Promise<void> {
  const now = options.now ?? (() => new Date());
  const ssoAccess: UserAccess = options.ssoAccess ?? (async (user: User) => user.sso === undefined);
  const { users, sessions, apiTokens } = store;
  app.decorate('userAccess', ssoAccess);
  await app.register(fastifyCookie);

  const clientIp = new AsyncLocalStorage<string>();
  // Every audit entry written during a request carries the client's address (the store object is the hub's one).
  const audit = store.audit.bind(store);
  store.audit = (actor, action, target, details, ex) => {
    // The hub's own actions (placement, lifecycle) may run inside some request; they have no client.
    const ip = actor === 'foundry-hub' ? undefined : clientIp.getStore();
    return audit(actor, action, target, ip === undefined || details?.ip !== undefined ? details : { ...details, ip }, ex);
  };

  // Expired sessions are refused when used; this only keeps the table small.
  const prune = setInterval(() => void pruneSessions(sessions, now()).catch((err: unknown) => app.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'pruning dashboard sessions failed')), 3600_000);
  prune.unref();
  app.addHook('onClose', async () => clearInterval(prune));

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    clientIp.enterWith(req.ip);
    const id = req.cookies[SESSION_COOKIE];
    if (id !== undefined && id !== '') {
      const s = await findSession(sessions, id, now());
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
      const row = token === undefined ? undefined : await authenticateApiToken(apiTokens, token, now());
      return row === undefined ? undefined : tokenPrincipal(users, row, ssoAccess);
    },
    async (req): Promise<Principal | undefined> => {
      const s = req.dashboardSession;
      return s === undefined ? undefined : sessionPrincipal(users, s, ssoAccess);
    },
  );
}

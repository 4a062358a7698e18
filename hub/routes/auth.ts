/**
 * Dashboard login and API tokens. Login is one request (user, password, TOTP or recovery code); a user
 * without a second factor yet, or with a one-time password, gets a short-lived setup ticket instead and
 * finishes at /setup (new password, TOTP enrolment by QR code, recovery codes shown once).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { actorOf, principalOf, requirePrincipal, type Principal } from '../auth/principal.js';
import { LoginLimiter, type LoginLimits } from '../auth/login-limiter.js';
import { passwordProblem } from '../auth/passwords.js';
import { SESSION_COOKIE, SESSION_LIMITS, openSession } from '../auth/sessions.js';
import { totpUri, qrSvg } from '../auth/totp.js';
import { checkPassword, checkSecondFactor, enableTotp, getUser, pendingTotpSecret, setPassword, type User } from '../auth/users.js';
import { API_TOKEN_SCOPES, createApiToken, getApiToken, listApiTokens, revokeApiToken, type ApiTokenScope } from '../auth/api-tokens.js';
import type { HubServices } from '../services.js';

/** Options of the auth routes. */
export interface AuthRouteOptions {
  /** Secure cookies (the hub serves TLS). */
  secure: boolean;
  limits?: LoginLimits;
  now?: () => Date;
}

interface LoginBody { user: string; password: string; code?: string }
interface SetupBody { ticket: string; newPassword?: string; code: string }

const str = (max: number) => ({ type: 'string', minLength: 1, maxLength: max });
const SETUP_TTL_MS = 10 * 60_000;
/** What the audit log says instead of a user name that matches no user. */
export const UNKNOWN_USER = '(unknown user)';

/** Registers /api/v1/auth/* and /api/v1/api-tokens. */
export function authRoutes(app: FastifyInstance, services: Pick<HubServices, 'store'>, opts: AuthRouteOptions): void {
  const { store } = services;
  const now = opts.now ?? (() => new Date());
  const limiter = new LoginLimiter(opts.limits, () => now().getTime());
  const tickets = new Map<string, { user: string; expires: number }>();
  const anyone = requirePrincipal(app);

  const startSession = async (req: FastifyRequest, reply: FastifyReply, user: User) => {
    const s = await openSession(store.sessions, user.name, req.ip, now());
    void reply.setCookie(SESSION_COOKIE, s.id, { path: '/', httpOnly: true, sameSite: 'strict', secure: opts.secure, maxAge: SESSION_LIMITS.maxMs / 1000 });
    return { user: user.name, role: user.role, tenant: user.tenant, csrfToken: s.csrfToken };
  };
  const refuse = async (reply: FastifyReply, user: string, ip: string, why: string) => {
    limiter.fail(user, ip);
    // A name that is no user is often a password typed into the wrong field: never store it.
    const who = (await getUser(store.users, user)) === undefined ? UNKNOWN_USER : user;
    await store.audit(`user:${who}`, 'auth.login.fail', who, { reason: why });
    return reply.code(401).send({ code: 'AUTH_FAILED', message: 'wrong user name, password or code' });
  };
  const limited = (reply: FastifyReply, waitMs: number) =>
    reply.code(429).header('retry-after', String(Math.ceil(waitMs / 1000))).send({ code: 'RATE_LIMITED', message: `too many failed logins: try again in ${Math.ceil(waitMs / 60_000)} min` });

  app.post<{ Body: LoginBody }>(
    '/api/v1/auth/login',
    { schema: { body: { type: 'object', required: ['user', 'password'], additionalProperties: false, properties: { user: str(64), password: str(256), code: { type: 'string', maxLength: 32 } } } } },
    async (req, reply) => {
      const { user: name, password, code } = req.body;
      const wait = limiter.check(name, req.ip);
      if (wait > 0) return limited(reply, wait);
      const user = await checkPassword(store.users, name, password);
      if (user === undefined) return refuse(reply, name, req.ip, 'password');
      if (user.mustChangePassword || !user.totpEnabled) {
        const ticket = randomBytes(24).toString('base64url');
        for (const [k, v] of tickets) if (v.expires < now().getTime()) tickets.delete(k);
        tickets.set(ticket, { user: name, expires: now().getTime() + SETUP_TTL_MS });
        const secret = await pendingTotpSecret(store.users, name);
        const uri = totpUri(secret, name);
        return { next: 'setup', ticket, mustChangePassword: user.mustChangePassword, otpauthUri: uri, qrSvg: await qrSvg(uri) };
      }
      if (code === undefined || code === '' || (await checkSecondFactor(store.users, name, code, now().getTime())) === undefined) return refuse(reply, name, req.ip, 'second factor');
      limiter.succeed(name, req.ip);
      await store.audit(`user:${name}`, 'auth.login', name);
      return { next: 'done', ...(await startSession(req, reply, user)) };
    },
  );

  app.post<{ Body: SetupBody }>(
    '/api/v1/auth/setup',
    { schema: { body: { type: 'object', required: ['ticket', 'code'], additionalProperties: false, properties: { ticket: str(64), newPassword: str(256), code: str(32) } } } },
    async (req, reply) => {
      const t = tickets.get(req.body.ticket);
      if (t === undefined || t.expires < now().getTime()) return reply.code(401).send({ code: 'AUTH_FAILED', message: 'the setup ticket is unknown or expired: log in again' });
      const user = await getUser(store.users, t.user);
      if (user === undefined) return reply.code(401).send({ code: 'AUTH_FAILED', message: 'the setup ticket is unknown or expired: log in again' });
      if (user.mustChangePassword) {
        const problem = req.body.newPassword === undefined ? 'a new password is required' : passwordProblem(req.body.newPassword);
        if (problem !== undefined) return reply.code(400).send({ code: 'BAD_REQUEST', message: problem });
      }
      if (limiter.check(user.name, req.ip) > 0) return limited(reply, limiter.check(user.name, req.ip));
      if ((await checkSecondFactor(store.users, user.name, req.body.code, now().getTime())) === undefined) return refuse(reply, user.name, req.ip, 'setup code');
      tickets.delete(req.body.ticket);
      if (user.mustChangePassword && req.body.newPassword !== undefined) await setPassword(store.users, user.name, req.body.newPassword);
      const recoveryCodes = user.totpEnabled ? [] : await enableTotp(store.users, user.name);
      await store.audit(`user:${user.name}`, 'auth.setup', user.name, { totp: !user.totpEnabled, password: user.mustChangePassword });
      const fresh = (await getUser(store.users, user.name)) as User;
      return { next: 'done', ...(await startSession(req, reply, fresh)), recoveryCodes };
    },
  );

  // Logout lives with single sign-on (hub/sso/install.ts): it may end the IdP's session too.

  const meOf = (p: Principal, req: FastifyRequest) => ({ subject: p.subject, role: p.role, tenant: p.tenant ?? null, tenantRole: p.role === 'tenant' ? (p.tenantRole ?? 'member') : null, via: p.via, sso: req.dashboardSession?.ssoProvider ?? null, csrfToken: req.dashboardSession?.csrfToken ?? null });
  app.get('/api/v1/auth/me', { preHandler: anyone }, async (req) => meOf(req.principal as Principal, req));
  // The page's first question: 200 either way, so a logged-out visit logs no failed request in the console.
  app.get('/api/v1/auth/session', async (req) => {
    const p = await principalOf(app, req);
    return p === undefined ? { loggedIn: false } : { loggedIn: true, ...meOf(p, req) };
  });

  // API tokens: admins create either scope; a tenant user only tokens of its own tenant.
  // Scopes: `api` (default, the hub's API) and/or `apps` (workspace apps through the ingress).
  app.post<{ Body: { label: string; role?: 'admin' | 'tenant'; tenant?: string; scopes?: ApiTokenScope[] } }>(
    '/api/v1/api-tokens',
    {
      onRequest: anyone,
      schema: {
        body: {
          type: 'object', required: ['label'], additionalProperties: false,
          properties: { label: str(64), role: { enum: ['admin', 'tenant'] }, tenant: str(63), scopes: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...API_TOKEN_SCOPES] } } },
        },
      },
    },
    async (req, reply) => {
      const p = req.principal as Principal;
      const role = req.body.role ?? (p.role === 'admin' && req.body.tenant === undefined ? 'admin' : 'tenant');
      const tenant = role === 'tenant' ? (p.role === 'tenant' ? p.tenant : req.body.tenant) : undefined;
      if (p.role === 'tenant' && (role === 'admin' || (req.body.tenant !== undefined && req.body.tenant !== p.tenant))) return reply.code(403).send({ code: 'AUTH_FORBIDDEN', message: 'a tenant can only create tokens of its own tenant' });
      if (role === 'tenant' && tenant === undefined) return reply.code(400).send({ code: 'BAD_REQUEST', message: 'a tenant token needs a tenant' });
      if (role === 'admin' && req.body.tenant !== undefined) return reply.code(400).send({ code: 'BAD_REQUEST', message: 'an admin token has no tenant' });
      const created = await createApiToken(store.apiTokens, { label: req.body.label, role, tenant, scopes: req.body.scopes, createdBy: actorOf(p) }, now());
      await store.audit(actorOf(p), 'api-token.create', created.row.id, { label: req.body.label, role, tenant, scopes: created.row.scopes });
      return reply.code(201).send({ ...created.row, token: created.token });
    },
  );
  app.get('/api/v1/api-tokens', { preHandler: anyone }, async (req) => {
    const p = req.principal as Principal;
    return { tokens: await listApiTokens(store.apiTokens, p.role === 'admin' ? undefined : p.tenant) };
  });
  app.post<{ Params: { id: string } }>('/api/v1/api-tokens/:id/revoke', { preHandler: anyone }, async (req, reply) => {
    const p = req.principal as Principal;
    const t = await getApiToken(store.apiTokens, req.params.id);
    // A tenant asking about another tenant's token gets the same answer as for a missing one.
    if (t === undefined || (p.role === 'tenant' && t.tenant !== p.tenant)) return reply.code(404).send({ code: 'NOT_FOUND', message: `no api token ${req.params.id}` });
    await revokeApiToken(store.apiTokens, t.id);
    await store.audit(actorOf(p), 'api-token.revoke', t.id, { label: t.label });
    return { revoked: t.id };
  });
}

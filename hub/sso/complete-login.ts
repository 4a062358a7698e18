/**
 * The end of every single sign-on login, whatever the protocol (OIDC here, SAML in hub/sso/saml*):
 * map the identity's groups to a tenant and role by its provider's mappings, create or update the user
 * (linked by provider and subject), refuse with a page that says why, ask a local TOTP step-up when the
 * provider requires MFA the IdP did not assert, and open the same dashboard session as a password login.
 * Every login, refusal, step-up and user creation is audit-logged with the IdP and the subject.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import type { HubStore } from '../store/hub-store.js';
import type { ApiTokensRepo } from '../store/api-tokens-repo.js';
import type { SessionsRepo } from '../store/sessions-repo.js';
import type { SsoRepo } from '../store/sso-repo.js';
import type { UsersRepo } from '../store/users-repo.js';
import { hashSecret } from '../auth/secrets.js';
import { SESSION_COOKIE, SSO_SESSION_MAX_MS, openSession } from '../auth/sessions.js';
import { upsertSsoUser, type User } from '../auth/users.js';
import type { SsoDirectory } from './directory.js';
import { mapGroups } from './mapping.js';
import { failurePage, refusalPage } from './pages.js';

/** What SSO code needs of the hub. */
export interface SsoContext {
  users: UsersRepo;
  sessions: SessionsRepo;
  apiTokens: ApiTokensRepo;
  sso: SsoRepo;
  audit: HubStore['audit'];
  directory: SsoDirectory;
  now: () => Date;
  /** Secure cookies (the hub serves TLS). */
  secure: boolean;
  log: FastifyBaseLogger;
}

/** A verified identity, as the protocol code hands it over (signature, audience, expiry already checked). */
export interface SsoIdentity {
  provider: string;
  protocol: 'oidc' | 'saml';
  subject: string;
  email?: string;
  name?: string;
  groups: string[];
  /** The IdP asserted multi-factor authentication (OIDC amr/acr, SAML AuthnContextClassRef). */
  mfa: boolean;
}

/** Cookie of a pending TOTP step-up (its ticket; the ticket is stored hashed). */
export const STEP_UP_COOKIE = 'foundry_sso_step_up';
/** Path of the step-up page and form. */
export const STEP_UP_PATH = '/auth/step-up';
const STEP_UP_TTL_MS = 10 * 60_000;
/** Cookie that carries where to go after an SSO login (a workspace app's /ingress/login) through the IdP and the step-up. */
export const SSO_NEXT_COOKIE = 'foundry_sso_next';

/**
 * `value` when it is the hub's own /ingress/login (the only place a login continues to: it opens a
 * workspace app, which checks its own target); undefined for anything else, so no link can turn the
 * sign-in into an open redirect. The dashboard applies the same rule to its `?next=`.
 */
export function safeLoginNext(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 2048 || !value.startsWith('/ingress/login?')) return undefined;
  try {
    const u = new URL(value, 'http://hub.invalid');
    return u.origin === 'http://hub.invalid' && u.pathname === '/ingress/login' ? u.pathname + u.search : undefined;
  } catch {
    return undefined;
  }
}

/** Remembers `next` (already checked by safeLoginNext) for the end of a login that crosses the IdP; Lax: the IdP's redirect back is a top-level GET. */
export function rememberLoginNext(ctx: Pick<SsoContext, 'secure'>, reply: FastifyReply, next: string | undefined): void {
  if (next === undefined) return;
  void reply.setCookie(SSO_NEXT_COOKIE, next, { path: '/auth/', httpOnly: true, sameSite: 'lax', secure: ctx.secure, maxAge: STEP_UP_TTL_MS / 1000 });
}

/**
 * Completes an SSO login: answers the request with a redirect to the dashboard (session open), a
 * redirect to the TOTP step-up, or a refusal page. Never throws for a refused user.
 */
export async function completeSsoLogin(ctx: SsoContext, identity: SsoIdentity, req: FastifyRequest, reply: FastifyReply, next?: string): Promise<FastifyReply> {
  const { provider: name, subject } = identity;
  const who = { provider: name, protocol: identity.protocol, subject };
  const provider = await ctx.directory.get(name);
  if (provider === undefined) {
    await ctx.audit(`sso:${name}`, 'auth.sso.refuse', subject, { ...who, reason: 'provider not configured' });
    return failurePage(reply, 404, name, `identity provider ${name} is not configured on this hub (any more)`);
  }
  const mapped = mapGroups(provider, identity.groups);
  if ('refused' in mapped) {
    await ctx.audit(`sso:${name}`, 'auth.sso.refuse', subject, { ...who, groups: identity.groups.slice(0, 50), reason: mapped.refused });
    ctx.log.info({ provider: name, subject }, 'sso login refused: no mapping');
    return refusalPage(reply, provider.spec.displayName, mapped.refused);
  }
  const hint = identity.email ?? identity.name ?? subject;
  const { user, created } = await upsertSsoUser(ctx.users, { provider: name, subject, nameHint: hint, email: identity.email, displayName: identity.name, groups: identity.groups }, mapped.placement, ctx.now());
  if (created) await ctx.audit(`sso:${name}`, 'user.create', user.name, { ...who, role: user.role, tenant: user.tenant, tenantRole: user.role === 'tenant' ? user.tenantRole : undefined });
  if (provider.spec.mfaRequired === true && !identity.mfa) {
    const ticket = randomBytes(32).toString('base64url');
    const at = ctx.now();
    await ctx.sso.openStepUp(hashSecret(ticket), { user: user.name, provider: name, expiresAt: new Date(at.getTime() + STEP_UP_TTL_MS).toISOString() }, at.toISOString());
    await ctx.audit(`user:${user.name}`, 'auth.sso.step-up', user.name, { ...who, enrol: !user.totpEnabled });
    // Lax: the browser arrives here through a redirect chain that started at the IdP.
    void reply.setCookie(STEP_UP_COOKIE, ticket, { path: STEP_UP_PATH, httpOnly: true, sameSite: 'lax', secure: ctx.secure, maxAge: STEP_UP_TTL_MS / 1000 });
    rememberLoginNext(ctx, reply, next);
    return reply.redirect(STEP_UP_PATH, 303);
  }
  return openSsoSession(ctx, user, identity, mapped.group, req, reply, next);
}

/**
 * Opens the dashboard session of an SSO user (after the IdP, or after the step-up) and redirects to the
 * dashboard, or through it to `next` (a workspace app's /ingress/login): the dashboard page follows it, so
 * that navigation starts on the hub's own page and carries the SameSite=Strict session cookie, which a
 * redirect chain that began at the IdP would not.
 */
export async function openSsoSession(ctx: SsoContext, user: User, identity: Pick<SsoIdentity, 'provider' | 'protocol' | 'subject' | 'mfa'>, group: string | undefined, req: FastifyRequest, reply: FastifyReply, next?: string): Promise<FastifyReply> {
  await setSsoSession(ctx, user, identity, group, req, reply);
  if (req.cookies[SSO_NEXT_COOKIE] !== undefined) void reply.clearCookie(SSO_NEXT_COOKIE, { path: '/auth/' });
  const to = safeLoginNext(next);
  return reply.redirect(to === undefined ? '/ui/' : `/ui/?next=${encodeURIComponent(to)}`, 303);
}

/** Opens the session and sets its cookie on `reply`, without answering yet; audit-logs the login. */
export async function setSsoSession(ctx: SsoContext, user: User, identity: Pick<SsoIdentity, 'provider' | 'protocol' | 'subject' | 'mfa'>, group: string | undefined, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const s = await openSession(ctx.sessions, user.name, req.ip, ctx.now(), { provider: identity.provider });
  await ctx.audit(`user:${user.name}`, 'auth.login', user.name, { provider: identity.provider, protocol: identity.protocol, subject: identity.subject, mfa: identity.mfa, group, role: user.role, tenant: user.tenant });
  void reply.setCookie(SESSION_COOKIE, s.id, { path: '/', httpOnly: true, sameSite: 'strict', secure: ctx.secure, maxAge: SSO_SESSION_MAX_MS / 1000 });
}

/**
 * Installs single sign-on on the hub: the OIDC and SAML routes, the TOTP step-up, the list
 * of providers for the login page (with a problem line when one cannot be used), logout that ends the
 * IdP's session where it supports it, short-lived API tokens for session users, and the user list of a
 * tenant for its tenant admins.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IdentityProvider } from '../../common/infra/model.js';
import { actorOf, canAdministerTenant, requirePrincipal, type Principal } from '../auth/principal.js';
import { createApiToken } from '../auth/api-tokens.js';
import { SESSION_COOKIE, closeSession } from '../auth/sessions.js';
import { getUser, listUsers } from '../auth/users.js';
import type { SsoContext } from './complete-login.js';
import { formRoutes } from './form-body.js';
import { OidcError, endSessionUrl, oidcConfig } from './oidc-client.js';
import { baseUrl, oidcRoutes, type SsoRouteOptions } from './oidc-routes.js';
import { samlLogoutUrl, samlProviderProblem, samlRoutes } from './saml-routes.js';
import { stepUpRoutes } from './step-up.js';

/** Why a provider cannot be used now (IdP unreachable, secret file missing; shown on the public login page, `logDetail` logged only), or undefined when it can. */
export type SsoProbe = (p: IdentityProvider) => Promise<string | undefined | { problem: string; logDetail?: string }>;

/** Lifetime of the API tokens a session user gets from POST /api/v1/auth/token. */
export const SHORT_TOKEN_MS = 3600_000;
const PROBE_TTL_MS = 60_000;

/** One provider as the login page shows it. */
export interface ProviderButton {
  name: string;
  displayName: string;
  protocol: 'oidc' | 'saml';
  tenant: string | null;
  start: string;
  problem: string | null;
}

/** Options of installSso; `probes.saml` is where SAML adds its own check. */
export interface InstallSsoOptions extends SsoRouteOptions {
  probes?: Partial<Record<'oidc' | 'saml', SsoProbe>>;
}

/** Registers the SSO routes on `app`. */
export function installSso(app: FastifyInstance, ctx: SsoContext, opts: InstallSsoOptions = {}): void {
  oidcRoutes(app, ctx, opts);
  samlRoutes(app, ctx, opts);
  formRoutes(app, (scope) => stepUpRoutes(scope, ctx));
  const probes: Partial<Record<'oidc' | 'saml', SsoProbe>> = {
    oidc: async (p) => {
      try {
        await oidcConfig(p, { ...opts.oidc, timeoutS: 3 });
        return undefined;
      } catch (err) {
        return { problem: err instanceof Error ? err.message : String(err), logDetail: err instanceof OidcError ? err.logDetail : undefined };
      }
    },
    // SAML needs no call to the IdP: its certificate or metadata file on the hub must be usable.
    saml: samlProviderProblem,
    ...opts.probes,
  };
  const lastProbe = new Map<string, { at: number; problem: string | undefined }>();
  const probe = async (p: IdentityProvider, protocol: 'oidc' | 'saml'): Promise<string | undefined> => {
    const key = `${p.metadata.name}:${JSON.stringify(p.spec)}`;
    const prev = lastProbe.get(key);
    if (prev !== undefined && ctx.now().getTime() - prev.at < PROBE_TTL_MS) return prev.problem;
    const found = await (probes[protocol]?.(p) ?? Promise.resolve(undefined));
    const problem = typeof found === 'object' ? found.problem : found;
    const detail = typeof found === 'object' ? found.logDetail : undefined;
    if (problem !== undefined && prev?.problem !== problem) ctx.log.warn({ provider: p.metadata.name, ...(detail === undefined ? {} : { detail }) }, `sso: ${problem}`);
    lastProbe.set(key, { at: ctx.now().getTime(), problem });
    return problem;
  };

  // Public: the login page's buttons, platform-wide providers first.
  app.get('/api/v1/auth/providers', async () => {
    const providers = [...(await ctx.directory.list())].sort((a, b) => Number(a.spec.tenant !== undefined) - Number(b.spec.tenant !== undefined) || a.metadata.name.localeCompare(b.metadata.name));
    const buttons: ProviderButton[] = await Promise.all(
      providers.map(async (p) => {
        const protocol = p.spec.saml !== undefined ? 'saml' : 'oidc';
        const problem = await probe(p, protocol);
        return { name: p.metadata.name, displayName: p.spec.displayName, protocol, tenant: p.spec.tenant ?? null, start: `/auth/${protocol}/${encodeURIComponent(p.metadata.name)}/start`, problem: problem ?? null };
      }),
    );
    return { providers: buttons };
  });

  /** Ends the local session; returns where the browser goes next (the IdP's end-session URL, or the login page). */
  const logout = async (req: FastifyRequest): Promise<{ loggedOut: boolean; redirect: string }> => {
    const s = req.dashboardSession;
    if (s === undefined) return { loggedOut: false, redirect: '/ui/' };
    await closeSession(ctx.sessions, s.id);
    await ctx.audit(`user:${s.user}`, 'auth.logout', s.user, s.ssoProvider === null ? undefined : { provider: s.ssoProvider });
    const p = s.ssoProvider === null ? undefined : await ctx.directory.get(s.ssoProvider);
    if (p?.spec.saml !== undefined) {
      const subject = (await getUser(ctx.users, s.user))?.sso?.subject;
      return { loggedOut: true, redirect: subject === undefined ? '/ui/' : ((await samlLogoutUrl(ctx, p, subject, req, opts)) ?? '/ui/') };
    }
    if (p?.spec.oidc === undefined) return { loggedOut: true, redirect: '/ui/' };
    try {
      const url = endSessionUrl(await oidcConfig(p, { ...opts.oidc, timeoutS: 3 }), `${baseUrl(req, opts)}/ui/`);
      return { loggedOut: true, redirect: url?.href ?? '/ui/' };
    } catch (err) {
      ctx.log.warn({ provider: p.metadata.name }, `sso: logout at the identity provider skipped: ${err instanceof Error ? err.message : String(err)}`);
      return { loggedOut: true, redirect: '/ui/' };
    }
  };
  // The dashboard's logout (JSON, CSRF-checked) and a plain link; the session cookie is SameSite=Strict, so another site cannot log anyone out.
  app.post('/api/v1/auth/logout', async (req, reply) => {
    const r = await logout(req);
    void reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return r;
  });
  app.get('/auth/logout', async (req, reply) => {
    const r = await logout(req);
    void reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect(r.redirect, 303);
  });

  // A tenant's users (local and SSO, with their role there): platform admins and that tenant's admins only.
  app.get<{ Params: { tenant: string } }>('/api/v1/tenants/:tenant/users', { preHandler: requirePrincipal(app) }, async (req, reply) => {
    const p = req.principal as Principal;
    if (!canAdministerTenant(p, req.params.tenant)) return reply.code(403).send({ code: 'AUTH_FORBIDDEN', message: `only an admin of tenant ${req.params.tenant} may list its users` });
    const users = (await listUsers(ctx.users, req.params.tenant)).map((u) => ({ name: u.name, tenantRole: u.tenantRole, provider: u.sso?.provider ?? null, totpEnabled: u.totpEnabled, createdAt: u.createdAt }));
    return { users };
  });

  // A short-lived API token for the user of a dashboard session (SSO users have no long-lived secret of their own).
  app.post('/api/v1/auth/token', { preHandler: requirePrincipal(app) }, async (req, reply) => {
    const p = req.principal as Principal;
    const user = p.via === 'session' ? await getUser(ctx.users, p.subject) : undefined;
    if (user === undefined) return reply.code(403).send({ code: 'AUTH_FORBIDDEN', message: 'short-lived tokens are issued to dashboard sessions only' });
    const expiresAt = new Date(ctx.now().getTime() + SHORT_TOKEN_MS);
    const created = await createApiToken(ctx.apiTokens, { label: `session:${user.name}`, role: user.role, tenant: user.tenant ?? undefined, createdBy: actorOf(p), expiresAt, user: user.name }, ctx.now());
    await ctx.audit(actorOf(p), 'api-token.create', created.row.id, { label: created.row.label, role: user.role, tenant: user.tenant, expiresAt: expiresAt.toISOString() });
    return reply.code(201).send({ token: created.token, expiresAt: expiresAt.toISOString(), role: user.role, tenant: user.tenant });
  });
}

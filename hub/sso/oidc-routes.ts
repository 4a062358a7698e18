/**
 * The OIDC routes: /auth/oidc/:provider/start sends the browser to the IdP (state, nonce and PKCE
 * verifier kept server-side, bound to the browser by a cookie); /auth/oidc/:provider/callback consumes
 * that login once (a replayed callback finds nothing), verifies the tokens and hands the identity to
 * completeSsoLogin. Failures (IdP unreachable, bad token) end on a page that says what happened.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Configuration } from 'openid-client';
import { hashSecret } from '../auth/secrets.js';
import { SSO_NEXT_COOKIE, completeSsoLogin, rememberLoginNext, safeLoginNext, type SsoContext } from './complete-login.js';
import { OidcError, finishOidcLogin, oidcConfig, startOidcLogin, type OidcOptions } from './oidc-client.js';
import { failurePage } from './pages.js';

/** Cookie that binds a login in flight to the browser that started it. */
export const LOGIN_COOKIE = 'foundry_sso_login';
const LOGIN_TTL_MS = 10 * 60_000;
/** Logins in flight (started, callback not yet seen) the hub keeps at most. */
export const MAX_LOGINS_IN_FLIGHT = 10_000;

/** Options of the SSO routes. */
export interface SsoRouteOptions {
  oidc?: OidcOptions;
  /** The hub's public base URL (redirect URIs); default: the request's protocol and host. */
  publicUrl?: string;
}

/** The hub's base URL as the IdP must call it back. */
export function baseUrl(req: FastifyRequest, opts: SsoRouteOptions): string {
  return (opts.publicUrl ?? `${req.protocol}://${req.host}`).replace(/\/+$/, '');
}

/** Registers the OIDC start and callback routes. */
export function oidcRoutes(app: FastifyInstance, ctx: SsoContext, opts: SsoRouteOptions): void {
  // The configuration discovered at start, reused by its callback (same JWKS download); a restart rediscovers.
  const configs = new Map<string, { config: Configuration; expires: number }>();
  const remember = (stateHash: string, config: Configuration) => {
    const t = ctx.now().getTime();
    for (const [k, v] of configs) if (v.expires <= t) configs.delete(k);
    configs.set(stateHash, { config, expires: t + LOGIN_TTL_MS });
  };
  const fail = (reply: FastifyReply, status: number, provider: string, message: string, logDetail?: string) => {
    ctx.log.warn({ provider, ...(logDetail === undefined ? {} : { detail: logDetail }) }, `sso: ${message}`);
    return failurePage(reply, status, provider, message);
  };

  app.get<{ Params: { provider: string }; Querystring: { next?: string } }>('/auth/oidc/:provider/start', async (req, reply) => {
    const name = req.params.provider;
    const p = await ctx.directory.get(name);
    if (p === undefined || p.spec.oidc === undefined) return fail(reply, 404, name, `no OpenID Connect provider ${name} is configured`);
    let config: Configuration;
    try {
      config = await oidcConfig(p, opts.oidc);
    } catch (err) {
      return fail(reply, 502, p.spec.displayName, err instanceof Error ? err.message : String(err), err instanceof OidcError ? err.logDetail : undefined);
    }
    let binding = req.cookies[LOGIN_COOKIE];
    if (binding === undefined || !/^[A-Za-z0-9_-]{43}$/.test(binding)) binding = randomBytes(32).toString('base64url');
    const started = await startOidcLogin(config, p, `${baseUrl(req, opts)}/auth/oidc/${encodeURIComponent(name)}/callback`);
    const at = ctx.now();
    const stateHash = hashSecret(started.state);
    // Anyone may start a login: a flood must not grow the table without bound (real logins finish in minutes).
    const login = { provider: name, bindingHash: hashSecret(binding), nonce: started.nonce, codeVerifier: started.codeVerifier, expiresAt: new Date(at.getTime() + LOGIN_TTL_MS).toISOString() };
    if (!(await ctx.sso.startLogin(stateHash, login, at.toISOString(), MAX_LOGINS_IN_FLIGHT))) {
      return fail(reply, 503, p.spec.displayName, 'too many sign-ins in progress: try again in a few minutes');
    }
    remember(stateHash, config);
    // Lax: the IdP's redirect back is a top-level navigation from another site.
    void reply.setCookie(LOGIN_COOKIE, binding, { path: '/auth/', httpOnly: true, sameSite: 'lax', secure: ctx.secure, maxAge: LOGIN_TTL_MS / 1000 });
    rememberLoginNext(ctx, reply, safeLoginNext(req.query.next));
    return reply.redirect(started.url.href, 303);
  });

  app.get<{ Params: { provider: string }; Querystring: Record<string, string | undefined> }>('/auth/oidc/:provider/callback', async (req, reply) => {
    const name = req.params.provider;
    const state = req.query.state;
    if (typeof state !== 'string' || state === '') return fail(reply, 400, name, 'the sign-in answer carries no state: start again from the login page');
    const stateHash = hashSecret(state);
    // Single use: the row is gone once read, so a replayed callback URL is refused.
    const row = await ctx.sso.takeLogin(stateHash);
    const cached = configs.get(stateHash);
    configs.delete(stateHash);
    const binding = req.cookies[LOGIN_COOKIE];
    if (row === undefined || row.provider !== name || Date.parse(row.expiresAt) <= ctx.now().getTime()) {
      await ctx.audit(`sso:${name}`, 'auth.sso.refuse', undefined, { provider: name, protocol: 'oidc', reason: 'unknown, used or expired state' });
      return fail(reply, 400, name, 'this sign-in was already used or has expired: start again from the login page');
    }
    if (binding === undefined || hashSecret(binding) !== row.bindingHash) {
      await ctx.audit(`sso:${name}`, 'auth.sso.refuse', undefined, { provider: name, protocol: 'oidc', reason: 'callback from another browser' });
      return fail(reply, 400, name, 'this sign-in was started in another browser: start again from the login page');
    }
    const p = await ctx.directory.get(name);
    if (p === undefined || p.spec.oidc === undefined) return fail(reply, 404, name, `no OpenID Connect provider ${name} is configured`);
    if (typeof req.query.error === 'string') {
      const why = `${req.query.error}${typeof req.query.error_description === 'string' ? `: ${req.query.error_description.slice(0, 300)}` : ''}`;
      await ctx.audit(`sso:${name}`, 'auth.sso.refuse', undefined, { provider: name, protocol: 'oidc', reason: `idp error ${req.query.error.slice(0, 100)}` });
      return fail(reply, 401, p.spec.displayName, `the identity provider answered ${why}`);
    }
    try {
      const config = cached?.config ?? (await oidcConfig(p, opts.oidc));
      const identity = await finishOidcLogin(config, p, new URL(req.url, baseUrl(req, opts)), { state, nonce: row.nonce, codeVerifier: row.codeVerifier });
      return await completeSsoLogin(ctx, { provider: name, protocol: 'oidc', ...identity }, req, reply, safeLoginNext(req.cookies[SSO_NEXT_COOKIE]));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await ctx.audit(`sso:${name}`, 'auth.sso.refuse', undefined, { provider: name, protocol: 'oidc', reason: message.slice(0, 300) });
      return fail(reply, 401, p.spec.displayName, message);
    }
  });
}

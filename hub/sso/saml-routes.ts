/**
 * The SAML routes of the hub, one set per SAML IdentityProvider:
 *   GET  /auth/saml/:provider/start     a fresh AuthnRequest, the browser sent to the IdP (HTTP-Redirect)
 *   POST /auth/saml/:provider/acs       the IdP's response (HTTP-POST): checked, then completeSsoLogin
 *   GET  /auth/saml/:provider/metadata  the SP's metadata (entity ID = this URL, ACS), for the IdP's admin
 *   GET  /auth/saml/:provider/slo       back from the IdP's single logout (the hub session already ended;
 *                                       also POST, the binding node-saml's SP metadata names)
 * and samlLogoutUrl, the IdP's single logout for /auth/logout.
 * The provider's files (certificate or metadata) are read at every request, so a rotated certificate on
 * the hub takes effect at once, and a broken one is named on the page, on the login page and in the log
 * (the SP metadata needs none of them).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IdentityProvider } from '../../common/infra/model.js';
import { errorMessage, isFoundryError } from '../../common/errors.js';
import { completeSsoLogin, safeLoginNext, type SsoContext } from './complete-login.js';
import { formRoutes } from './form-body.js';
import { baseUrl, type SsoRouteOptions } from './oidc-routes.js';
import { failurePage } from './pages.js';
import { REQUEST_ID_TTL_MS } from './saml-cache.js';
import { loadIdpTrust } from './saml-idp-trust.js';
import { SamlServiceProvider, spMetadata, spUrls, type SamlIdentity } from './saml-sp.js';

/**
 * The problem with a SAML provider's files on this hub (unreadable, not a certificate, not metadata), if
 * any: for the public login page the field and the problem, for the log also the file's path.
 */
export async function samlProviderProblem(p: IdentityProvider): Promise<{ problem: string; logDetail?: string } | undefined> {
  if (p.spec.saml === undefined) return undefined;
  try {
    loadIdpTrust(p.metadata.name, p.spec.saml);
    return undefined;
  } catch (err) {
    const file = isFoundryError(err) ? err.resource : undefined;
    return { problem: errorMessage(err), ...(file === undefined ? {} : { logDetail: `file ${file}` }) };
  }
}

/**
 * Where /auth/logout sends the browser to end the IdP's session of `subject` too (a LogoutRequest for its
 * last sign-in), or undefined when the IdP has no single logout endpoint, no session is known, or its
 * files are broken (logged: the hub's session is over either way).
 */
export async function samlLogoutUrl(ctx: SsoContext, p: IdentityProvider, subject: string, req: FastifyRequest, opts: SsoRouteOptions): Promise<string | undefined> {
  const name = p.metadata.name;
  if (p.spec.saml === undefined) return undefined;
  const session = await ctx.sso.takeSamlSession(name, subject);
  if (session === undefined) return undefined;
  try {
    const sp = new SamlServiceProvider({ provider: name, trust: loadIdpTrust(name, p.spec.saml), urls: spUrls(baseUrl(req, opts), name), sso: ctx.sso, now: ctx.now });
    return await sp.logoutUrl(session, '/ui/');
  } catch (err) {
    ctx.log.warn({ provider: name }, `sso: logout at the identity provider skipped: ${errorMessage(err)}`);
    return undefined;
  }
}

type Params = { Params: { provider: string } };

/** Cookie that binds a SAML sign-in to the browser that started it (under TLS only, see samlRoutes). */
export const SAML_LOGIN_COOKIE = 'foundry_saml_login';
const BINDING = /^[A-Za-z0-9_-]{43}$/;

/** Registers the SAML start, ACS and metadata routes. */
export function samlRoutes(app: FastifyInstance, ctx: SsoContext, opts: SsoRouteOptions): void {
  const fail = (reply: FastifyReply, status: number, provider: string, message: string) => {
    ctx.log.warn({ provider }, `sso: ${message}`);
    return failurePage(reply, status, provider, message);
  };

  /** The provider's SP, or the answer already sent (unknown provider, broken files). */
  const spFor = async (req: FastifyRequest<Params>, reply: FastifyReply, binding?: string): Promise<{ sp: SamlServiceProvider; p: IdentityProvider } | FastifyReply> => {
    const name = req.params.provider;
    const p = await ctx.directory.get(name);
    if (p?.spec.saml === undefined) return fail(reply, 404, name, `no SAML provider ${name} is configured`);
    try {
      const trust = loadIdpTrust(name, p.spec.saml);
      const sp = new SamlServiceProvider({ provider: name, trust, urls: spUrls(baseUrl(req, opts), name), signed: p.spec.saml.signed, groupsAttribute: p.spec.saml.groupsAttribute, sso: ctx.sso, now: ctx.now, binding });
      return { sp, p };
    } catch (err) {
      // the page is public: the file's path goes to the log only
      const file = isFoundryError(err) ? err.resource : undefined;
      ctx.log.warn({ provider: name, ...(file === undefined ? {} : { detail: `file ${file}` }) }, `sso: ${errorMessage(err)}`);
      return failurePage(reply, 503, p.spec.displayName, `${errorMessage(err)}: this provider cannot be used until its file is fixed on the hub`);
    }
  };

  // Under TLS the request is bound to this browser by a cookie the IdP's cross-site POST brings back
  // (SameSite=None needs Secure); over plain HTTP such a cookie would not come back from another site, so
  // sign-ins are not bound there (docs/sso-saml.md).
  const bindingOf = (req: FastifyRequest): string | undefined => {
    const b = req.cookies[SAML_LOGIN_COOKIE];
    return b !== undefined && BINDING.test(b) ? b : undefined;
  };
  app.get<Params>('/auth/saml/:provider/start', async (req, reply) => {
    const binding = ctx.secure ? (bindingOf(req) ?? randomBytes(32).toString('base64url')) : undefined;
    const got = await spFor(req, reply, binding);
    if (!('sp' in got)) return got;
    if (binding !== undefined) void reply.setCookie(SAML_LOGIN_COOKIE, binding, { path: '/auth/saml/', httpOnly: true, sameSite: 'none', secure: true, maxAge: REQUEST_ID_TTL_MS / 1000 });
    return reply.header('cache-control', 'no-store').redirect(await got.sp.authorizeUrl(safeLoginNext((req.query as Record<string, unknown>).next) ?? '/ui/'), 303);
  });

  // Served even while the IdP's files are missing: the IdP's admin needs it first.
  app.get<Params>('/auth/saml/:provider/metadata', async (req, reply) => {
    const name = req.params.provider;
    const p = await ctx.directory.get(name);
    if (p?.spec.saml === undefined) return fail(reply, 404, name, `no SAML provider ${name} is configured`);
    return reply.type('application/samlmetadata+xml; charset=utf-8').send(spMetadata(spUrls(baseUrl(req, opts), name), p.spec.saml.signed));
  });

  // The IdP's answer to our LogoutRequest (HTTP-Redirect, or HTTP-POST as node-saml's SP metadata
  // announces): the hub's session ended before the browser went there, so there is nothing left to do or to
  // trust. A logout the IdP starts (SAMLRequest) is not supported.
  const sloReturn = (req: FastifyRequest<Params>, reply: FastifyReply, fields: Record<string, unknown> | undefined) => {
    if (typeof fields?.SAMLRequest === 'string') {
      return fail(reply, 501, req.params.provider, 'a logout started at the identity provider is not supported: sign out at the hub (its sessions also end on their own)');
    }
    return reply.redirect('/ui/', 303);
  };
  app.get<Params & { Querystring: Record<string, string | undefined> }>('/auth/saml/:provider/slo', async (req, reply) => sloReturn(req, reply, req.query));

  // The IdP's page posts here from its own site: no Origin/CSRF-header check (crossSitePost); the
  // signed response, its InResponseTo and the replay cache are what authenticate this request.
  formRoutes(app, (scope) => {
    scope.post<Params & { Body: Record<string, unknown> | undefined }>('/auth/saml/:provider/slo', { config: { crossSitePost: true } }, async (req, reply) => sloReturn(req, reply, req.body));
    scope.post<Params & { Body: Record<string, unknown> | undefined }>('/auth/saml/:provider/acs', { config: { crossSitePost: true } }, async (req, reply) => {
      const got = await spFor(req, reply, bindingOf(req));
      if (!('sp' in got)) return got;
      const name = req.params.provider;
      let identity: SamlIdentity;
      try {
        identity = await got.sp.accept(req.body ?? {});
      } catch (err) {
        if (!isFoundryError(err, 'AUTH_FORBIDDEN')) throw err;
        const reason = String(err.details?.reason ?? 'refused');
        await ctx.audit(`sso:${name}`, 'auth.sso.refuse', undefined, { provider: name, protocol: 'saml', reason, message: err.message.slice(0, 300) });
        return fail(reply, 403, got.p.spec.displayName, `the identity provider's answer was refused: ${err.message}`);
      }
      return completeSsoLogin(ctx, { provider: name, protocol: 'saml', subject: identity.subject, email: identity.email, name: identity.name, groups: identity.groups, mfa: identity.mfa }, req, reply, safeLoginNext(req.body?.RelayState));
    });
  });
}

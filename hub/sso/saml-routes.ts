/**
 * The SAML routes of the hub, one set per SAML IdentityProvider:
 *   GET  /auth/saml/:provider/start     a fresh AuthnRequest, the browser sent to the IdP (HTTP-Redirect)
 *   POST /auth/saml/:provider/acs       the IdP's response (HTTP-POST), checked, then the shared SSO login
 *   GET  /auth/saml/:provider/metadata  the SP's metadata (entity ID = this URL, ACS), for the IdP's admin
 * The provider's files (certificate or metadata) are read at every start and ACS, so a rotated
 * certificate on the hub takes effect at once and a broken one is named on the page and in the log.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IdentityProvider } from '../../common/infra/model.js';
import { errorMessage, isFoundryError } from '../../common/errors.js';
import { loadIdpTrust } from './saml-idp-trust.js';
import { SamlServiceProvider, spUrls, type SamlIdentity } from './saml-sp.js';

/** The identity completeSsoLogin takes (hub/sso/complete-login.ts). */
export interface SamlSsoIdentity {
  provider: string;
  protocol: 'saml';
  subject: string;
  email?: string;
  name?: string;
  groups: string[];
  mfa: boolean;
}

/** What the SAML routes need from the hub. */
export interface SamlRouteDeps {
  /** The IdentityProvider called `name` (any protocol), or undefined. */
  provider(name: string): IdentityProvider | undefined;
  /** The hub's public base URL, e.g. https://hub.example.com (SP entity IDs and ACS URLs derive from it). */
  publicUrl(): string | undefined;
  /** Maps the identity to a user and opens the session (completeSsoLogin); answers the browser itself. */
  complete(identity: SamlSsoIdentity, req: FastifyRequest, reply: FastifyReply): Promise<unknown>;
  now?: () => Date;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A small page that says why sign-in did not work, with the way back to the login page. */
export function ssoProblemPage(reply: FastifyReply, status: number, title: string, message: string): FastifyReply {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><link rel="stylesheet" href="/ui/style.css"></head><body><main class="sso-problem"><h1>${escapeHtml(title)}</h1><p id="sso-problem">${escapeHtml(message)}</p><p><a href="/ui/">Back to the sign-in page</a> (local accounts can always sign in there).</p></main></body></html>`;
  return reply
    .code(status)
    .headers({ 'content-security-policy': "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'", 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' })
    .type('text/html; charset=utf-8')
    .send(html);
}

/** The problem with a SAML provider's configuration on this hub (unreadable or broken files), if any. */
export function samlProviderProblem(ip: IdentityProvider): string | undefined {
  if (ip.spec.saml === undefined) return undefined;
  try {
    loadIdpTrust(ip.metadata.name, ip.spec.saml);
    return undefined;
  } catch (err) {
    return errorMessage(err);
  }
}

/** Registers the SAML routes (in their own scope: the ACS alone parses form bodies). */
export async function samlRoutes(app: FastifyInstance, deps: SamlRouteDeps): Promise<void> {
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 512 * 1024 }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });

    type Params = { Params: { provider: string } };
    /** The provider's SP, or an answer already sent (unknown provider, broken configuration). */
    const spFor = (req: FastifyRequest<Params>, reply: FastifyReply): { sp: SamlServiceProvider; ip: IdentityProvider } | FastifyReply => {
      const name = req.params.provider;
      const ip = deps.provider(name);
      if (ip?.spec.saml === undefined) return ssoProblemPage(reply, 404, 'Unknown sign-in provider', `there is no SAML identity provider called ${name}`);
      const base = deps.publicUrl();
      if (base === undefined) return ssoProblemPage(reply, 503, 'Single sign-on unavailable', 'the hub does not know its public URL yet (start it with --public-url)');
      try {
        const trust = loadIdpTrust(name, ip.spec.saml);
        const sp = new SamlServiceProvider({ provider: name, trust, urls: spUrls(base, name), signed: ip.spec.saml.signed, groupsAttribute: ip.spec.saml.groupsAttribute, db: app.hub.store.db, now: deps.now });
        return { sp, ip };
      } catch (err) {
        req.log.error({ provider: name, err: errorMessage(err) }, 'SAML identity provider misconfigured');
        return ssoProblemPage(reply, 503, `Sign-in with ${ip.spec.displayName} is unavailable`, `${errorMessage(err)}. Local accounts still sign in on the login page.`);
      }
    };

    scope.get<Params>('/auth/saml/:provider/start', async (req, reply) => {
      const got = spFor(req, reply);
      if (!('sp' in got)) return got;
      return reply.header('cache-control', 'no-store').redirect(await got.sp.authorizeUrl('/ui/'));
    });

    scope.get<Params>('/auth/saml/:provider/metadata', async (req, reply) => {
      const got = spFor(req, reply);
      if (!('sp' in got)) return got;
      return reply.type('application/samlmetadata+xml; charset=utf-8').send(got.sp.metadata());
    });

    scope.post<Params & { Body: Record<string, unknown> | undefined }>('/auth/saml/:provider/acs', { config: { crossSitePost: true } }, async (req, reply) => {
      const got = spFor(req, reply);
      if (!('sp' in got)) return got;
      const name = req.params.provider;
      let identity: SamlIdentity;
      try {
        identity = await got.sp.accept(req.body ?? {});
      } catch (err) {
        if (!isFoundryError(err, 'AUTH_FORBIDDEN')) throw err;
        const reason = String(err.details?.reason ?? 'refused');
        app.hub.store.audit(`sso:${name}`, 'auth.sso.refused', name, { protocol: 'saml', reason, message: err.message });
        req.log.warn({ provider: name, reason, err: err.message }, 'SAML response refused');
        return ssoProblemPage(reply, 403, `Sign-in with ${got.ip.spec.displayName} refused`, `the identity provider's answer was refused: ${err.message}`);
      }
      return deps.complete({ provider: name, protocol: 'saml', subject: identity.subject, email: identity.email, name: identity.name, groups: identity.groups, mfa: identity.mfa }, req, reply);
    });
  });
}

/**
 * The SAML routes over HTTP, on a real hub app, against the real IdP (SimpleSAMLphp): start redirects to
 * the IdP with a fresh request, the IdP's cross-site POST reaches the ACS (no CSRF refusal), the identity
 * is handed to the SSO login, refusals are audited and explained, the SP metadata is served, and a broken
 * certificate file gives a clear 503 while local login keeps answering.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../hub/app.js';
import { HubStore } from '../../hub/store/hub-store.js';
import { samlRoutes, type SamlSsoIdentity } from '../../hub/sso/saml-routes.js';
import { spUrls } from '../../hub/sso/saml-sp.js';
import type { IdentityProvider } from '../../common/infra/model.js';
import { describeIf } from '../support/requires.js';
import { AC, SAML_IDP_HOW, loginAtIdp, samlIdpAvailable, startSamlIdp, type SamlIdp } from '../support/saml-idp.js';

const ALICE = { username: 'alice', password: 'alice-pw-1', attributes: { uid: ['alice-0001'], mail: ['alice@acme.test'], groups: ['acme-users'] }, authnContext: AC.mfa };

describeIf(samlIdpAvailable, 'a SAML IdP (SimpleSAMLphp, apache2)', SAML_IDP_HOW)('SAML routes', () => {
  let dir: string;
  let idp: SamlIdp;
  let store: HubStore;
  let app: FastifyInstance;
  let url = '';
  const completed: SamlSsoIdentity[] = [];
  const providers = new Map<string, IdentityProvider>();
  const provider = (name: string, saml: NonNullable<IdentityProvider['spec']['saml']>): IdentityProvider => ({
    apiVersion: 'foundry.cloud/v1',
    kind: 'IdentityProvider',
    metadata: { name },
    spec: { displayName: `Acme ${name}`, tenant: 'acme', saml, mappings: [{ group: 'acme-users', tenant: 'acme', role: 'tenant-member' }] },
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'foundry-saml-routes-'));
    store = new HubStore(join(dir, 'hub.db'));
    app = await buildApp({ store });
    await samlRoutes(app, {
      provider: (name) => providers.get(name),
      publicUrl: () => url,
      complete: async (identity, _req, reply) => {
        completed.push(identity);
        return reply.redirect('/ui/');
      },
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const a = app.server.address();
    url = `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`;
    idp = await startSamlIdp([ALICE], ['acme', 'broken'].map((p) => ({ entityId: spUrls(url, p).entityId, acsUrl: spUrls(url, p).acsUrl })));
    const metadataFile = join(dir, 'idp-metadata.xml');
    writeFileSync(metadataFile, await idp.metadata());
    providers.set('acme', provider('acme', { entryPoint: idp.ssoUrl, idpMetadataFile: metadataFile }));
    const broken = join(dir, 'broken.crt');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
    providers.set('broken', provider('broken', { entryPoint: idp.ssoUrl, idpCertFile: broken }));
  });
  afterAll(async () => {
    await idp?.close();
    await app?.close();
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('start redirects to the IdP; the IdP posts (cross-site, with its Origin) to the ACS; the identity goes to the SSO login', async () => {
    const start = await fetch(`${url}/auth/saml/acme/start`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const location = start.headers.get('location') ?? '';
    expect(location.startsWith(`${idp.ssoUrl}?SAMLRequest=`)).toBe(true);
    const post = await loginAtIdp(location, 'alice', 'alice-pw-1');
    expect(post.action).toBe(`${url}/auth/saml/acme/acs`);
    const body = new URLSearchParams({ SAMLResponse: post.SAMLResponse, RelayState: post.RelayState ?? '' });
    const idpOrigin = new URL(idp.baseUrl).origin;
    const acs = await fetch(post.action, { method: 'POST', body, redirect: 'manual', headers: { origin: idpOrigin } });
    expect(acs.status).toBe(302);
    expect(acs.headers.get('location')).toBe('/ui/');
    expect(completed).toEqual([{ provider: 'acme', protocol: 'saml', subject: 'alice-0001', email: 'alice@acme.test', name: undefined, groups: ['acme-users'], mfa: true }]);
    // the same response again: refused, explained, audited
    const again = await fetch(post.action, { method: 'POST', body, redirect: 'manual', headers: { origin: idpOrigin } });
    expect(again.status).toBe(403);
    expect(await again.text()).toContain('was already used: a SAML response is accepted once');
    expect(completed).toHaveLength(1);
    const audit = store.db.prepare("SELECT actor, action, target, details FROM audit_log WHERE action = 'auth.sso.refused'").all() as Array<{ actor: string; target: string; details: string }>;
    expect(audit.map((a) => ({ ...a, details: JSON.parse(a.details) as Record<string, unknown> }))).toMatchObject([{ actor: 'sso:acme', target: 'acme', details: { protocol: 'saml', reason: 'replayed' } }]);
  });

  it('bad input at the ACS is refused with a reason, never a server error', async () => {
    const acs = (body: string, type = 'application/x-www-form-urlencoded') => fetch(`${url}/auth/saml/acme/acs`, { method: 'POST', body, headers: { 'content-type': type } });
    const empty = await acs('');
    expect(empty.status).toBe(403);
    expect(await empty.text()).toContain('the IdP posted no SAMLResponse');
    for (const junk of ['SAMLResponse=%%%', `SAMLResponse=${encodeURIComponent(Buffer.from('<not-saml/>').toString('base64'))}`, 'SAMLResponse=bm90IHhtbA==']) {
      const res = await acs(junk);
      expect(res.status, junk).toBe(403);
      expect(await res.text()).toContain('the identity provider&#39;s answer was refused');
    }
    expect((await acs('{"SAMLResponse": 1}', 'application/json')).status).toBe(403);
  });

  it('serves the SP metadata: entity ID, ACS with the HTTP-POST binding', async () => {
    const res = await fetch(`${url}/auth/saml/acme/metadata`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/samlmetadata+xml');
    const xml = await res.text();
    expect(xml).toContain(`entityID="${url}/auth/saml/acme/metadata"`);
    expect(xml).toMatch(new RegExp(`Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${url}/auth/saml/acme/acs"`));
    // 'either' by default: one of response or assertion must be signed, so the assertion alone is not demanded
    expect(xml).not.toContain('WantAssertionsSigned="true"');
  });

  it('a broken certificate file: 503 naming the file and the problem, logged; an unknown provider: 404', async () => {
    const start = await fetch(`${url}/auth/saml/broken/start`, { redirect: 'manual' });
    expect(start.status).toBe(503);
    const page = await start.text();
    expect(page).toContain('Sign-in with Acme broken is unavailable');
    expect(page).toContain(`identity provider broken: idpCertFile ${join(dir, 'broken.crt')}: not a valid X.509 certificate`);
    expect(page).toContain('Local accounts still sign in on the login page.');
    expect((await fetch(`${url}/auth/saml/nope/start`, { redirect: 'manual' })).status).toBe(404);
    // local login still answers (wrong password: 401, not an error)
    const login = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'ada', password: 'wrong-password' }) });
    expect(login.status).toBe(401);
  });
});

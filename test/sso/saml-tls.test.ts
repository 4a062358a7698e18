/**
 * Under TLS a SAML sign-in is bound to the browser that started it: /start sets a SameSite=None; Secure
 * cookie, and the ACS refuses a response whose request was started elsewhere (login CSRF: someone pushing
 * their own signed response into a victim's browser). A hub with TLS on, driven in-process (inject), and
 * the real IdP (SimpleSAMLphp) signing the responses.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { IdentityProvider } from '../../common/infra/model.js';
import { buildApp } from '../../hub/app.js';
import { HubStore } from '../../hub/store/hub-store.js';
import { spUrls } from '../../hub/sso/saml-sp.js';
import { describeIf } from '../support/requires.js';
import { AC, SAML_IDP_HOW, loginAtIdp, samlIdpAvailable, startSamlIdp, type SamlIdp } from '../support/saml-idp.js';

const HUB = 'https://hub.test';

describeIf(samlIdpAvailable, 'a SAML IdP (SimpleSAMLphp, apache2)', SAML_IDP_HOW)('SAML sign-in bound to the browser under TLS', () => {
  let dir: string;
  let idp: SamlIdp;
  let store: HubStore;
  let app: FastifyInstance;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'foundry-saml-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=hub.test', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    idp = await startSamlIdp([{ username: 'alice', password: 'alice-pw-1', attributes: { uid: ['alice-0001'], groups: ['acme-users'] }, authnContext: AC.mfa }], [spUrls(HUB, 'acme')]);
    writeFileSync(join(dir, 'idp.xml'), await idp.metadata());
    const provider: IdentityProvider = {
      apiVersion: 'foundry.cloud/v1',
      kind: 'IdentityProvider',
      metadata: { name: 'acme' },
      spec: { displayName: 'Acme SAML', tenant: 'acme', saml: { entryPoint: idp.ssoUrl, idpMetadataFile: join(dir, 'idp.xml') }, mappings: [{ group: 'acme-users', tenant: 'acme', role: 'tenant-member' }] },
    };
    store = new HubStore(join(dir, 'hub.db'));
    app = await buildApp({ store, tls: { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) }, dashboard: { pollMs: 0, sso: { providers: async () => [provider], publicUrl: HUB } } });
    await app.ready();
  });
  afterAll(async () => {
    await idp?.close();
    await app?.close();
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts a sign-in in one browser: its binding cookie and what the IdP would post. */
  const start = async () => {
    const res = await app.inject({ method: 'GET', url: '/auth/saml/acme/start' });
    expect(res.statusCode).toBe(303);
    const set = String(res.headers['set-cookie'] ?? '');
    expect(set).toMatch(/^foundry_saml_login=[\w-]{43}; Max-Age=600; Path=\/auth\/saml\/; HttpOnly; Secure; SameSite=None$/);
    const post = await loginAtIdp(String(res.headers.location), 'alice', 'alice-pw-1');
    return { cookie: set.split(';')[0] ?? '', post };
  };
  const acs = (body: string, cookie?: string) =>
    app.inject({ method: 'POST', url: '/auth/saml/acme/acs', payload: body, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(idp.baseUrl).origin, ...(cookie === undefined ? {} : { cookie }) } });
  const form = (p: { SAMLResponse: string }) => new URLSearchParams({ SAMLResponse: p.SAMLResponse }).toString();

  it('refuses a response posted by a browser that did not start its sign-in, accepts it from the one that did', async () => {
    const mine = await start();
    const theirs = await start();
    // someone else's response (their own sign-in) pushed into my browser
    const pushed = await acs(form(theirs.post), mine.cookie);
    expect(pushed.statusCode).toBe(403);
    expect(pushed.body).toContain('this sign-in was started in another browser');
    // no cookie at all
    const bare = await acs(form(mine.post));
    expect(bare.statusCode).toBe(403);
    expect(bare.body).toContain('this sign-in was started in another browser');
    const reasons = (store.db.prepare("SELECT details FROM audit_log WHERE action = 'auth.sso.refuse'").all() as Array<{ details: string }>).map((r) => (JSON.parse(r.details) as { reason: string }).reason);
    expect(reasons).toEqual(['other-browser', 'other-browser']);
    // a third sign-in, posted back by its own browser
    const ok = await start();
    const done = await acs(form(ok.post), ok.cookie);
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe('/ui/');
    expect(String(done.headers['set-cookie'] ?? '')).toMatch(/foundry_session=[\w-]{43};.*Secure/);
  });
});

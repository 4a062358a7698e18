/**
 * SAML sign-in over HTTP on a real hub (buildApp with the dashboard and SSO) against the real IdP
 * (SimpleSAMLphp under apache2): start redirects to the IdP with a fresh request, the IdP's cross-site POST
 * reaches the ACS (no CSRF refusal), completeSsoLogin maps the groups and opens the session, the TOTP
 * step-up is asked when the IdP asserts no MFA, unmapped users and bad responses are refused and audited,
 * the SP metadata is served, and a broken certificate file is named (start page, login page's provider
 * list) while local login keeps answering.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { IdentityProvider } from '../../common/infra/model.js';
import { spUrls } from '../../hub/sso/saml-sp.js';
import { describeIf } from '../support/requires.js';
import { startTestHub, type TestHub } from '../hub/support.js';
import { AC, IdpClient, SAML_IDP_HOW, idpPost, loginAtIdp, samlIdpAvailable, startSamlIdp, type IdpPost, type SamlIdp, type SamlIdpUser } from '../support/saml-idp.js';

const USERS: SamlIdpUser[] = [
  { username: 'alice', password: 'alice-pw-1', attributes: { uid: ['alice-0001'], mail: ['alice@acme.test'], displayName: ['Alice A'], groups: ['acme-users'] }, authnContext: AC.mfa },
  { username: 'bob', password: 'bob-pw-1', attributes: { uid: ['bob-0002'], mail: ['bob@acme.test'], groups: ['acme-admins'] } },
  { username: 'carol', password: 'carol-pw-1', attributes: { uid: ['carol-0003'], groups: ['marketing'] }, authnContext: AC.mfa },
];

interface AuditRow { actor: string; action: string; target: string | null; details: Record<string, unknown> }

describeIf(samlIdpAvailable, 'a SAML IdP (SimpleSAMLphp, apache2)', SAML_IDP_HOW)('SAML sign-in over HTTP', () => {
  let dir: string;
  let idp: SamlIdp;
  let hub: TestHub;
  const providers: IdentityProvider[] = [];
  const provider = (name: string, saml: NonNullable<IdentityProvider['spec']['saml']>): IdentityProvider => ({
    apiVersion: 'foundry.cloud/v1',
    kind: 'IdentityProvider',
    metadata: { name },
    spec: {
      displayName: `Acme SAML (${name})`,
      tenant: 'acme',
      mfaRequired: true,
      saml,
      mappings: [
        { group: 'acme-admins', tenant: 'acme', role: 'tenant-admin' },
        { group: 'acme-users', tenant: 'acme', role: 'tenant-member' },
      ],
    },
  });
  const audit = (action: string): AuditRow[] =>
    (hub.store.db.prepare('SELECT actor, action, target, details FROM audit_log WHERE action = ? ORDER BY id').all(action) as Array<Omit<AuditRow, 'details'> & { details: string | null }>).map((r) => ({ ...r, details: JSON.parse(r.details ?? '{}') as Record<string, unknown> }));
  const idpOrigin = () => new URL(idp.baseUrl).origin;
  /** Start at the hub, sign in at the IdP; returns what the IdP's page would post. */
  const signIn = async (user: string, password: string, p = 'acme'): Promise<IdpPost> => {
    const start = await fetch(`${hub.url}/auth/saml/${p}/start`, { redirect: 'manual' });
    expect(start.status).toBe(303);
    const location = start.headers.get('location') ?? '';
    expect(location.startsWith(`${idp.ssoUrl}?SAMLRequest=`)).toBe(true);
    return loginAtIdp(location, user, password);
  };
  const postAcs = (post: IdpPost) =>
    fetch(post.action, { method: 'POST', body: new URLSearchParams({ SAMLResponse: post.SAMLResponse, RelayState: post.RelayState ?? '' }), redirect: 'manual', headers: { origin: idpOrigin() } });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'foundry-saml-routes-'));
    hub = await startTestHub({ dashboard: { pollMs: 0, sso: { providers: async () => providers } } });
    idp = await startSamlIdp(USERS, ['acme', 'broken'].map((p) => spUrls(hub.url, p)));
    const metadataFile = join(dir, 'idp-metadata.xml');
    writeFileSync(metadataFile, await idp.metadata());
    const broken = join(dir, 'broken.crt');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
    providers.push(provider('acme', { entryPoint: idp.ssoUrl, idpMetadataFile: metadataFile }), provider('broken', { entryPoint: idp.ssoUrl, idpCertFile: broken }));
  });
  afterAll(async () => {
    await idp?.close();
    await hub?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs in: the IdP posts cross-site to the ACS, the user is created in its tenant with its role and gets a session', async () => {
    const post = await signIn('alice', 'alice-pw-1');
    expect(post.action).toBe(`${hub.url}/auth/saml/acme/acs`);
    const acs = await postAcs(post);
    expect(acs.status).toBe(303);
    expect(acs.headers.get('location')).toBe('/ui/');
    const cookie = (acs.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(cookie).toMatch(/^foundry_session=/);
    const me = (await (await fetch(`${hub.url}/api/v1/auth/me`, { headers: { cookie } })).json()) as Record<string, unknown>;
    expect(me).toMatchObject({ role: 'tenant', tenant: 'acme', via: 'session' });
    expect(audit('user.create')).toMatchObject([{ actor: 'sso:acme', details: { provider: 'acme', protocol: 'saml', subject: 'alice-0001', tenant: 'acme' } }]);
    expect(audit('auth.login')).toMatchObject([{ details: { provider: 'acme', protocol: 'saml', subject: 'alice-0001', mfa: true, group: 'acme-users' } }]);
    // the same response again: refused as a replay, explained, audited, no second session
    const again = await postAcs(post);
    expect(again.status).toBe(403);
    expect(await again.text()).toContain('was already used: a SAML response is accepted once');
    expect(again.headers.get('set-cookie')).toBeNull();
    expect(audit('auth.sso.refuse')).toMatchObject([{ actor: 'sso:acme', details: { provider: 'acme', protocol: 'saml', reason: 'replayed' } }]);
  });

  it('logout ends the hub session and, by single logout, the session at the IdP', async () => {
    const client = new IdpClient();
    const startAt = async () => (await fetch(`${hub.url}/auth/saml/acme/start`, { redirect: 'manual' })).headers.get('location') ?? '';
    const acs = await postAcs(await client.login(await startAt(), 'alice', 'alice-pw-1'));
    const cookie = (acs.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(cookie).toMatch(/^foundry_session=/);
    // the IdP session is open: signing in again needs no password
    expect(idpPost(await client.follow(await startAt()))).toBeDefined();
    const out = await fetch(`${hub.url}/auth/logout`, { headers: { cookie }, redirect: 'manual' });
    expect(out.status).toBe(303);
    const slo = out.headers.get('location') ?? '';
    expect(slo.startsWith(`${idp.baseUrl}saml2/idp/SingleLogoutService.php?SAMLRequest=`)).toBe(true);
    // the IdP ends its session and sends the browser back to the hub's SLO return, then to the login page
    const back = await client.follow(slo);
    expect(back.url).toBe(`${hub.url}/ui/`);
    expect((await fetch(`${hub.url}/api/v1/auth/me`, { headers: { cookie } })).status).toBe(401);
    // the IdP asks for the password again
    const page = await client.follow(await startAt());
    expect(idpPost(page)).toBeUndefined();
    expect(page.html).toContain('name="AuthState"');
    // a logout the IdP starts is not supported, and says so
    const idpStarted = await fetch(`${hub.url}/auth/saml/acme/slo?SAMLRequest=x`, { redirect: 'manual' });
    expect(idpStarted.status).toBe(501);
    expect(await idpStarted.text()).toContain('a logout started at the identity provider is not supported');
    // the return also takes the HTTP-POST binding the SP metadata names
    const posted = await fetch(`${hub.url}/auth/saml/acme/slo`, { method: 'POST', body: new URLSearchParams({ SAMLResponse: 'eA==' }), redirect: 'manual', headers: { origin: idpOrigin() } });
    expect(posted.status).toBe(303);
    expect(posted.headers.get('location')).toBe('/ui/');
  });

  it('asks the local TOTP step-up when the provider requires MFA and the IdP asserted none', async () => {
    const acs = await postAcs(await signIn('bob', 'bob-pw-1'));
    expect(acs.status).toBe(303);
    expect(acs.headers.get('location')).toBe('/auth/step-up');
    expect(acs.headers.get('set-cookie') ?? '').not.toContain('foundry_session=');
    expect(audit('auth.sso.step-up')).toMatchObject([{ details: { provider: 'acme', protocol: 'saml', subject: 'bob-0002' } }]);
  });

  it('refuses a user whose groups map to nothing, saying why', async () => {
    const acs = await postAcs(await signIn('carol', 'carol-pw-1'));
    expect(acs.status).toBe(403);
    expect(await acs.text()).toContain('none of your groups is mapped to a tenant or role by Acme SAML (acme) (the provider sent groups marketing');
  });

  it('bad input at the ACS is refused with a reason (403), never a server error', async () => {
    const acs = (body: string, type = 'application/x-www-form-urlencoded') => fetch(`${hub.url}/auth/saml/acme/acs`, { method: 'POST', body, headers: { 'content-type': type, origin: idpOrigin() } });
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
    const res = await fetch(`${hub.url}/auth/saml/acme/metadata`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/samlmetadata+xml');
    const xml = await res.text();
    expect(xml).toContain(`entityID="${hub.url}/auth/saml/acme/metadata"`);
    expect(xml).toContain(`Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${hub.url}/auth/saml/acme/acs"`);
    // 'either' by default: one of response or assertion must be signed, so the assertion alone is not demanded
    expect(xml).not.toContain('WantAssertionsSigned="true"');
    // also while the IdP's files are broken: the IdP's admin needs it first
    const broken = await fetch(`${hub.url}/auth/saml/broken/metadata`);
    expect(broken.status).toBe(200);
    expect(await broken.text()).toContain(`entityID="${hub.url}/auth/saml/broken/metadata"`);
    expect((await fetch(`${hub.url}/auth/saml/nope/metadata`)).status).toBe(404);
  });

  it('a broken certificate file: named on the start page and in the login page\'s provider list; local login still answers', async () => {
    const start = await fetch(`${hub.url}/auth/saml/broken/start`, { redirect: 'manual' });
    expect(start.status).toBe(503);
    const page = await start.text();
    expect(page).toContain('identity provider broken: idpCertFile: not a valid X.509 certificate');
    expect(page).not.toContain(dir); // the page is public: the path goes to the log only
    expect(page).toContain('Local accounts can still log in with password and authenticator code.');
    const list = (await (await fetch(`${hub.url}/api/v1/auth/providers`)).json()) as { providers: Array<{ name: string; protocol: string; start: string; problem: string | null }> };
    expect(list.providers.find((p) => p.name === 'acme')).toMatchObject({ protocol: 'saml', start: '/auth/saml/acme/start', problem: null });
    expect(list.providers.find((p) => p.name === 'broken')?.problem).toMatch(/^identity provider broken: idpCertFile: not a valid X\.509 certificate/);
    expect((await fetch(`${hub.url}/auth/saml/nope/start`, { redirect: 'manual' })).status).toBe(404);
    const login = await fetch(`${hub.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'ada', password: 'wrong-password' }) });
    expect(login.status).toBe(401);
  });
});

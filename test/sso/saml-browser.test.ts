/**
 * SAML single sign-on end to end in real headless Chromium: the IdentityProvider is declared in the hub's
 * hosted infra repo, the login page shows its button, SimpleSAMLphp's own login page (apache2, a real IdP
 * process) signs the user in, its page posts the response back, and the user lands on its tenant's
 * dashboard; logging out ends the IdP's session too (single logout). A provider whose certificate file is
 * broken is named on the login page, and the local login form stays. Screenshots go to test-output/screenshots/.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser } from 'playwright-core';
import { buildApp } from '../../hub/app.js';
import { HubStore } from '../../hub/store/hub-store.js';
import { spUrls } from '../../hub/sso/saml-sp.js';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { commandWorks, describeIf } from '../support/requires.js';
import { hostedRepo } from '../workspaces/git-fixture.js';
import { AC, SAML_IDP_HOW, samlIdpAvailable, startSamlIdp, type SamlIdp } from '../support/saml-idp.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = join(PACKAGE_ROOT, 'test-output', 'screenshots');
const available = samlIdpAvailable && commandWorks(CHROMIUM, ['--version']);

const doc = (kind: string, name: string, spec: string): string => `apiVersion: foundry.cloud/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n${spec}`;

describeIf(available, 'a SAML IdP (SimpleSAMLphp, apache2) and Chromium', `${SAML_IDP_HOW}; apt-get install -y chromium`)('SAML sign-in in Chromium', () => {
  let dir: string;
  let idp: SamlIdp;
  let store: HubStore;
  let app: FastifyInstance;
  let url = '';
  let browser: Browser;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'foundry-saml-browser-'));
    mkdirSync(SHOTS, { recursive: true });
    // The IdP first (the repo names its URL), then the hub, then the hub's SP entries at the IdP.
    idp = await startSamlIdp([{ username: 'alice', password: 'alice-pw-1', attributes: { uid: ['alice-0001'], mail: ['alice@acme.test'], displayName: ['Alice Acme'], groups: ['acme-users'] }, authnContext: AC.mfa }], []);
    const metadataFile = join(dir, 'idp-metadata.xml');
    writeFileSync(metadataFile, await idp.metadata());
    const brokenCert = join(dir, 'broken.crt');
    writeFileSync(brokenCert, 'this is not a certificate\n');
    const mappings = '  mappings:\n    - { group: acme-admins, tenant: acme, role: tenant-admin }\n    - { group: acme-users, tenant: acme, role: tenant-member }\n';
    const repoDir = await hostedRepo(dir, {
      'cluster.yaml': doc('Cluster', 'main', '  hubUrl: http://127.0.0.1:1\n'),
      'tenants/acme.yaml': doc('Tenant', 'acme', '  displayName: ACME\n'),
      'identity-providers/acme-saml.yaml': doc('IdentityProvider', 'acme-saml', `  displayName: ACME (SimpleSAMLphp)\n  tenant: acme\n  mfaRequired: true\n  saml:\n    entryPoint: ${idp.ssoUrl}\n    idpMetadataFile: ${metadataFile}\n    signed: either\n${mappings}`),
      'identity-providers/acme-old.yaml': doc('IdentityProvider', 'acme-old', `  displayName: ACME (old IdP)\n  tenant: acme\n  saml:\n    entryPoint: ${idp.ssoUrl}\n    idpCertFile: ${brokenCert}\n${mappings}`),
    });
    store = new HubStore(join(dir, 'hub.db'));
    app = await buildApp({ store, repoDir, dashboard: { pollMs: 0 } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const a = app.server.address();
    url = `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`;
    idp.setSps([spUrls(url, 'acme-saml')]);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  });
  afterAll(async () => {
    await browser?.close();
    await idp?.close();
    await app?.close();
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs in through SimpleSAMLphp\'s login page, lands on the tenant\'s dashboard, and logs out at the hub and the IdP', async () => {
    const page = await browser.newPage();
    await page.goto(`${url}/`);
    // the login page: the provider's button, the broken one named with its problem, the local form
    const button = page.getByTestId('sso-acme-saml');
    await expect.poll(async () => button.textContent()).toBe('Sign in with ACME (SimpleSAMLphp)');
    await expect.poll(async () => page.getByTestId('sso-problem-acme-old').textContent()).toBe('Unavailable: identity provider acme-old: idpCertFile: no PEM certificate in it. Local accounts can still log in below.');
    expect(await page.getByRole('button', { name: 'Log in' }).isVisible()).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'saml-01-login.png'), fullPage: true });
    await button.click();
    // SimpleSAMLphp's own login form
    await page.waitForURL(`${idp.baseUrl}**`);
    expect(await page.title()).toBe('Enter your username and password');
    await page.locator('#username').fill('alice');
    await page.locator('#password').fill('alice-pw-1');
    await page.screenshot({ path: join(SHOTS, 'saml-02-idp-login.png'), fullPage: true });
    await page.getByRole('button', { name: 'Login' }).click();
    // its page posts the response to the ACS, the hub opens the session and sends the browser to the dashboard
    await page.waitForURL(`${url}/ui/**`);
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    await expect.poll(async () => page.locator('#who-name').textContent()).toBe('alice.acme-saml (tenant acme)');
    expect(page.url()).toBe(`${url}/ui/#/workspaces`);
    await page.screenshot({ path: join(SHOTS, 'saml-03-dashboard.png'), fullPage: true });
    const me = (await (await page.request.get(`${url}/api/v1/auth/me`)).json()) as Record<string, unknown>;
    expect(me).toMatchObject({ role: 'tenant', tenant: 'acme', via: 'session' });
    // Log out: the hub's session ends, the IdP's too (single logout), and the browser is back at the login page
    const sloAt: string[] = [];
    page.on('request', (r) => {
      if (r.url().startsWith(`${idp.baseUrl}saml2/idp/SingleLogoutService.php`)) sloAt.push(r.url());
    });
    await page.getByRole('button', { name: 'Log out' }).click();
    await expect.poll(async () => page.getByTestId('sso-acme-saml').isVisible()).toBe(true);
    expect(page.url()).toBe(`${url}/ui/`);
    expect(sloAt).toHaveLength(1);
    expect((await page.request.get(`${url}/api/v1/auth/me`)).status()).toBe(401);
    // signing in again asks for the password at the IdP
    await page.getByTestId('sso-acme-saml').click();
    await page.waitForURL(`${idp.baseUrl}**`);
    expect(await page.title()).toBe('Enter your username and password');
    await page.close();
  });
  it('carries a workspace app login through the IdP in RelayState and back to it; a foreign RelayState lands on the dashboard', async () => {
    const next = `/ingress/login?rd=${encodeURIComponent('http://n8n--ws-saml.apps.localhost:8088/')}`;
    const page = await browser.newPage();
    const back: Array<{ url: string; cookie: string }> = [];
    page.on('request', (r) => {
      if (r.url().startsWith(`${url}/ingress/login`)) void r.allHeaders().then((h) => back.push({ url: r.url(), cookie: h.cookie ?? '' }));
    });
    await page.goto(`${url}/ui/?next=${encodeURIComponent(next)}`);
    await page.getByTestId('sso-acme-saml').click();
    await page.waitForURL(`${idp.baseUrl}**`);
    if (await page.locator('#username').count() > 0) {
      await page.locator('#username').fill('alice');
      await page.locator('#password').fill('alice-pw-1');
      await page.getByRole('button', { name: 'Login' }).click();
    }
    await expect.poll(() => back.length).toBe(1);
    expect(back[0]?.url).toBe(`${url}${next}`);
    expect(back[0]?.cookie).toMatch(/(^|; )foundry_session=/);
    await page.close();
    // The start route puts only the hub's app login in RelayState.
    const relay = async (n: string) => new URL((await fetch(`${url}/auth/saml/acme-saml/start?next=${encodeURIComponent(n)}`, { redirect: 'manual' })).headers.get('location') ?? '').searchParams.get('RelayState');
    expect(await relay(next)).toBe(next);
    expect(await relay('https://evil.example/')).toBe('/ui/');
  });
});

/**
 * Apps end to end in real headless Chromium, through the real nginx the node agent runs (its generated
 * configuration, auth_request to the hub) to a real busybox httpd container on real Podman, two tenants:
 * acme's user logs in on the dashboard, opens its app from the workspace page and sees its page; globex's
 * user and globex's API key get 403 at acme's URL; acme's apps key works from a script, and the app sees
 * neither the key nor the hub's cookies nor the client's spoofed X-Forwarded-For or X-Foundry-*; an expired
 * session goes to the login page and back to the app. Screenshots go to test-output/screenshots/apps-*.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { resolveConfig } from '../../agent/config/load-config.js';
import { startNodeAgent, type NodeAgent } from '../../agent/node-agent.js';
import { buildApp } from '../../hub/app.js';
import { HubStore } from '../../hub/store/hub-store.js';
import { commandWorks, describeIf, onPath } from '../support/requires.js';
import { PODMAN_HOW, podmanAvailable, startPrivatePodman, TEST_IMAGE, type PrivatePodman } from '../support/podman.js';
import { freePort, waitFor } from '../hub/support.js';
import { addUser, code, post } from '../dashboard/support.js';
import { fleetFiles, hostedRepo } from '../workspaces/git-fixture.js';
import type { FastifyInstance } from 'fastify';
import { get } from './http-client.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = join(PACKAGE_ROOT, 'test-output', 'screenshots');
const NODE = 'gpu-01';
const doc = (kind: string, name: string, spec: string): string => `apiVersion: foundry.cloud/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n${spec}`;

/**
 * The app: busybox httpd with a page and a CGI script that prints the request headers it received (as
 * CGI's HTTP_* variables), on 8080 (`web`) and 8081 (`llm`, an API). Written at start by the container's
 * command, so the shared test image stays as it is.
 */
const APP_COMMAND = [
  'mkdir -p /tmp/www/cgi-bin',
  'echo "<!doctype html><title>foundry test app</title><h1>foundry test app</h1>" > /tmp/www/index.html',
  String.raw`printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\nenv | grep ^HTTP_ | sort\n' > /tmp/www/cgi-bin/headers`,
  'chmod +x /tmp/www/cgi-bin/headers',
  'httpd -p 8081 -h /tmp/www',
  'exec httpd -f -p 8080 -h /tmp/www',
].join(' && ');

function files(ingressPort: number): Record<string, string> {
  const f = fleetFiles({ nodes: 0 });
  f['profiles/e2e-gpu.yaml'] = doc('NodeProfile', 'e2e-gpu', '  description: gpu node without the exporter (quay.io cannot be pulled here)\n  hostsWorkspaces: true\n');
  f[`nodes/${NODE}.yaml`] = doc('Node', NODE, '  profile: e2e-gpu\n');
  f['templates/web.yaml'] = doc('WorkspaceTemplate', 'web', `  containers:\n    - name: main\n      image: ${TEST_IMAGE}\n      pullPolicy: Never\n      command: [sh, -c, ${JSON.stringify(APP_COMMAND)}]\n      ports:\n        - { containerPort: 8080, app: web }\n        - { containerPort: 8081, app: llm, api: true }\n`);
  f['workspaces/acme/acme-one.yaml'] = doc('Workspace', 'acme-one', `  tenant: acme\n  template: web\n  gpus:\n    count: 0\n  node: ${NODE}\n  state: running\n`);
  f['workspaces/globex/globex-one.yaml'] = doc('Workspace', 'globex-one', `  tenant: globex\n  template: web\n  gpus:\n    count: 0\n  node: ${NODE}\n  state: running\n`);
  // A decision cached 1 s, so the expired session is seen quickly.
  f['services/ingress.yaml'] = doc('Service', 'ingress', `  placement:\n    node: ${NODE}\n  ingress:\n    listen: 127.0.0.1:${ingressPort}\n    authCacheSeconds: 1\n`);
  return f;
}

/** A request to the ingress with a Host header of our choice (Node's resolver does not map *.localhost). */
const viaIngress = get;

const available = existsSync(CHROMIUM) && commandWorks(CHROMIUM, ['--version']) && podmanAvailable() && onPath('nginx');

describeIf(available, 'chromium, podman and nginx', `apt-get install -y chromium nginx; ${PODMAN_HOW}`)('workspace apps in chromium through nginx', () => {
  let app: FastifyInstance;
  let store: HubStore;
  let hubUrl: string;
  let pm: PrivatePodman;
  let node: NodeAgent | undefined;
  let browser: Browser;
  let dir: string;
  let port: number;
  const web = (): string => `http://web--acme-one.apps.localhost:${port}`;
  const webHost = (): string => `web--acme-one.apps.localhost:${port}`;
  const recovery: Record<string, string[]> = {};
  let eveKey = '';

  async function shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(SHOTS, `apps-${name}.png`), fullPage: true });
  }

  /** First login through the dashboard: one-time password, new password, TOTP; keeps the recovery codes. */
  async function firstLogin(ctx: BrowserContext, user: string): Promise<Page> {
    const page = await ctx.newPage();
    await page.goto(`${hubUrl}/`);
    await page.getByLabel('User name').fill(user);
    await page.getByLabel('Password', { exact: true }).fill('one-time-password-1');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Set up your account' }).waitFor();
    const secret = (await page.getByTestId('totp-secret').textContent()) ?? '';
    await page.getByLabel(/New password/).fill(`${user}-new-password-123`);
    await page.getByLabel('Code from the app').fill(code(secret));
    await page.getByRole('button', { name: 'Finish setup' }).click();
    await expect.poll(async () => page.getByTestId('recovery-codes').locator('li').count()).toBe(10);
    recovery[user] = await page.getByTestId('recovery-codes').locator('li').allTextContents();
    await page.getByRole('button', { name: 'Continue to the dashboard' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    return page;
  }

  /** An apps-scoped API token made with the browser context's session (as the API tokens page does). */
  async function appsKey(ctx: BrowserContext, label: string): Promise<string> {
    const cookie = (await ctx.cookies(hubUrl)).map((c) => `${c.name}=${c.value}`).join('; ');
    const me = (await (await fetch(`${hubUrl}/api/v1/auth/me`, { headers: { cookie } })).json()) as { csrfToken: string };
    const r = await post(`${hubUrl}/api/v1/api-tokens`, { label, scopes: ['apps'] }, { cookie, 'x-csrf-token': me.csrfToken });
    expect(r.status).toBe(201);
    return String(r.body.token);
  }

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'foundry-apps-e2e-'));
    port = await freePort();
    const repoDir = await hostedRepo(dir, files(port));
    store = new HubStore(join(dir, 'hub.db'));
    const ingress = { apps: { domain: 'apps.localhost', scheme: 'http' as const, port }, hubPublicUrl: '', intervalMs: 100 };
    app = await buildApp({ store, repoDir, repoPollMs: 500, dashboard: { pollMs: 250 }, ingress, appAuth: { decisionTtlS: 1 } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const addr = app.server.address();
    hubUrl = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`;
    ingress.hubPublicUrl = hubUrl;
    for (const [name, tenant] of [['tom', 'acme'], ['eve', 'globex']] as const) await addUser(store, name, 'tenant', tenant);
    pm = await startPrivatePodman();
    const credentialFile = join(dir, 'credential');
    writeFileSync(credentialFile, `${(await store.issueNodeCredential(NODE))}\n`, { mode: 0o600 });
    const config = resolveConfig({
      node: NODE,
      repo: { url: `${hubUrl}/git/infra.git`, branch: 'main' },
      cacheDir: join(dir, 'cache'),
      stateDir: join(dir, 'state'),
      podman: { socketPath: pm.socketPath },
      hub: { url: hubUrl, credentialFile },
    }, join(dir, 'agent.yaml'));
    node = await startNodeAgent(config, pino({ level: process.env.E2E_AGENT_LOG === undefined ? 'silent' : 'debug' }));
    // Routable: nginx runs with both workspaces' routes and asks the hub (401 without a credential).
    await waitFor(async () => (await viaIngress(port, webHost(), '/').catch(() => ({ status: 0 }))).status === 401, 120_000, 'acme-one routed through nginx');
    await waitFor(async () => (await viaIngress(port, `web--globex-one.apps.localhost:${port}`, '/').catch(() => ({ status: 0 }))).status === 401, 30_000, 'globex-one routed');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await node?.ingress?.stopAll();
    await node?.stop();
    await pm?.stop();
    await app?.close();
    await store?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  let tomCtx: BrowserContext;
  let tomPage: Page;

  it('acme\'s user sees its apps on the workspace page, opens one and sees its page', async () => {
    tomCtx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    tomPage = await firstLogin(tomCtx, 'tom');
    // The API says routable once the ingress's route table has both apps (the agent reported their ports).
    const cookie = (await tomCtx.cookies(hubUrl)).map((c) => `${c.name}=${c.value}`).join('; ');
    await waitFor(async () => {
      const r = (await (await fetch(`${hubUrl}/api/v1/workspaces/acme-one/apps`, { headers: { cookie } })).json()) as { apps: Array<{ state: string }> };
      return r.apps.length === 2 && r.apps.every((a) => a.state === 'routable');
    }, 30_000, 'apps routable');
    await tomPage.goto(`${hubUrl}/ui/#/workspaces`);
    await tomPage.reload();
    const apps = tomPage.getByTestId('apps-acme-one');
    await apps.waitFor();
    expect(await apps.getByText('Routable').count()).toBe(2);
    expect(await tomPage.getByTestId('apps-globex-one').count()).toBe(0);
    expect(await tomPage.getByTestId('example-acme-one-llm').textContent()).toBe(`curl -H "Authorization: Bearer $FOUNDRY_APPS_KEY" http://llm--acme-one.apps.localhost:${port}/`);
    await shot(tomPage, '01-workspace-apps');
    const [tab] = await Promise.all([tomCtx.waitForEvent('page'), tomPage.getByTestId('open-acme-one-web').click()]);
    await tab.waitForURL(`${web()}/`, { timeout: 30_000 });
    await tab.getByRole('heading', { name: 'foundry test app' }).waitFor();
    await shot(tab, '02-app-opened');
    // The app session is the app host's own cookie: host-only, HttpOnly, Lax; the dashboard's stays on the hub.
    const cookies = await tomCtx.cookies(web());
    expect(cookies.map((c) => [c.name, c.domain, c.httpOnly, c.sameSite, c.secure])).toEqual([['foundry_app', 'web--acme-one.apps.localhost', true, 'Lax', false]]);
    await tab.close();
  });

  it('the app sees none of the hub\'s credentials, and the tenant and user as nginx sets them', async () => {
    await tomPage.goto(`${web()}/cgi-bin/headers`);
    const seen = (await tomPage.locator('body').textContent()) ?? '';
    await shot(tomPage, '03-app-request-headers');
    expect(seen).toContain(`HTTP_HOST=${webHost()}`);
    expect(seen).toContain('HTTP_X_FOUNDRY_TENANT=acme');
    expect(seen).toContain('HTTP_X_FOUNDRY_PRINCIPAL=user:tom');
    expect(seen).not.toContain('foundry_app');
    expect(seen).not.toContain('foundry_session');
    expect(seen).not.toContain('HTTP_AUTHORIZATION');
  });

  it('globex\'s user gets 403 at acme\'s URL', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await firstLogin(ctx, 'eve');
    await page.goto(`${web()}/`);
    await page.getByRole('heading', { name: 'No access to this app' }).waitFor();
    expect(page.url()).toMatch(new RegExp(`^${hubUrl}/ingress/login\\?rd=`));
    expect(await page.locator('body').textContent()).not.toContain('acme');
    await shot(page, '04-other-tenant-403');
    // Its own app opens.
    await page.goto(`http://web--globex-one.apps.localhost:${port}/`);
    await page.getByRole('heading', { name: 'foundry test app' }).waitFor();
    eveKey = await appsKey(ctx, 'globex-script');
    await ctx.close();
  });

  it('scripts: acme\'s apps key works and is stripped with the hub cookies; globex\'s key gets 403; no key gets a plain 401', async () => {
    const acmeKey = await appsKey(tomCtx, 'acme-script');
    const ok = await viaIngress(port, webHost(), '/cgi-bin/headers', {
      authorization: `Bearer ${acmeKey}`,
      cookie: 'foundry_session=stolen; keep=1; foundry_app=forged',
      'x-forwarded-for': '203.0.113.9',
      'x-foundry-tenant': 'globex',
      'x-foundry-principal': 'user:admin',
    });
    expect(ok.status).toBe(200);
    expect(ok.body).not.toContain('fapi_');
    expect(ok.body).not.toContain('HTTP_AUTHORIZATION');
    expect(ok.body).toContain('HTTP_COOKIE=keep=1\n');
    expect(ok.body).toContain('HTTP_X_FORWARDED_FOR=127.0.0.1\n');
    expect(ok.body).toContain('HTTP_X_FOUNDRY_TENANT=acme\n');
    expect(ok.body).toMatch(/HTTP_X_FOUNDRY_PRINCIPAL=token:[0-9a-f]{12}\n/);
    expect(ok.body).not.toContain('203.0.113.9');
    const api = await viaIngress(port, `llm--acme-one.apps.localhost:${port}`, '/', { authorization: `Bearer ${acmeKey}` });
    expect([api.status, api.body]).toEqual([200, '<!doctype html><title>foundry test app</title><h1>foundry test app</h1>\n']);
    expect((await viaIngress(port, webHost(), '/', { authorization: `Bearer ${eveKey}` })).status).toBe(403);
    const none = await viaIngress(port, webHost(), '/', { accept: 'application/json' });
    expect([none.status, none.headers.location]).toEqual([401, undefined]);
    const browserLike = await viaIngress(port, webHost(), '/chat?a=1&b=2', { accept: 'text/html' });
    expect([browserLike.status, browserLike.headers.location]).toEqual([302, `${hubUrl}/ingress/login?rd=${encodeURIComponent(`${web()}/chat?a=1&b=2`)}`]);
  });

  it('an expired session goes to the login page and back to the app', async () => {
    store.db.prepare("UPDATE sessions SET expires_at = ? WHERE user = 'tom'").run(new Date(Date.now() - 1000).toISOString());
    await new Promise((r) => setTimeout(r, 1500)); // nginx's cached decision (1 s) runs out
    await tomPage.goto(`${web()}/cgi-bin/headers?after=expiry`);
    await tomPage.getByLabel('User name').waitFor();
    expect(new URL(tomPage.url()).pathname).toBe('/ui/');
    expect(await tomPage.getByTestId('login-to-app').isVisible()).toBe(true);
    await shot(tomPage, '05-expired-login');
    await tomPage.getByLabel('User name').fill('tom');
    await tomPage.getByLabel('Password', { exact: true }).fill('tom-new-password-123');
    await tomPage.getByLabel('Authenticator code or recovery code').fill(recovery.tom?.[0] ?? '');
    await tomPage.getByRole('button', { name: 'Log in' }).click();
    await tomPage.waitForURL(`${web()}/cgi-bin/headers?after=expiry`, { timeout: 30_000 });
    expect(await tomPage.locator('body').textContent()).toContain('HTTP_X_FOUNDRY_PRINCIPAL=user:tom');
    await shot(tomPage, '06-back-in-the-app');
    await tomCtx.close();
  });
}, 600_000);

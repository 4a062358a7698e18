/**
 * A tenant user sets, replaces and deletes a workspace secret on the dashboard (real headless Chromium):
 * the value goes into a password field that is emptied after sending, the list shows names and versions,
 * and the value is never in the page afterwards nor in anything the hub answers.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { describeIf, commandWorks } from '../support/requires.js';
import { fleetFiles } from '../workspaces/git-fixture.js';
import { startWsHub, type WsHub } from '../workspaces/hub-fixture.js';
import { addUser, firstLogin } from '../dashboard/support.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const VALUE = 'dash-secret-value-7f3e91-marker';
const available = existsSync(CHROMIUM) && commandWorks(CHROMIUM, ['--version']);

describeIf(available, 'chromium', 'apt-get install -y chromium (playwright-core drives /usr/bin/chromium)')('workspace secrets on the dashboard', () => {
  let hub: WsHub;
  let browser: Browser;
  let page: Page;
  const answers: string[] = [];

  beforeAll(async () => {
    hub = await startWsHub(fleetFiles({ nodes: 1, gpus: 2 }), ['gpu-01'], { secrets: true });
    expect((await hub.call('POST', '/api/v1/workspaces', { body: { tenant: 'acme', template: 'tiny', gpus: { count: 1 }, name: 'acme-dash' } })).status).toBe(201);
    const session = await firstLogin(hub.url, 'tom', await addUser(hub.store, 'tom', 'tenant', 'acme'), 'a-long-new-password-1');
    const [name, value] = session.cookie.split('=') as [string, string];
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    const ctx = await browser.newContext();
    await ctx.addCookies([{ name, value, url: hub.url }]);
    page = await ctx.newPage();
    page.on('response', (r) => void r.text().then((t) => answers.push(t), () => undefined));
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  });

  it('sets, replaces and deletes a secret; the value never comes back', { timeout: 120_000 }, async () => {
    await page.goto(`${hub.url}/ui/#/workspaces`);
    await page.getByRole('button', { name: 'Secrets of acme-dash' }).click();
    const panel = page.getByTestId('secrets-acme-dash');
    await expect.poll(() => panel.textContent()).toContain('No secrets yet.');
    await panel.getByLabel('Secret name').fill('openai-api-key');
    await panel.getByLabel('Value (write-only)').fill(VALUE);
    await panel.getByRole('button', { name: 'Set secret' }).click();
    await expect.poll(() => panel.getByRole('status').textContent()).toBe('Secret openai-api-key set (version 1). It is not shown again.');
    expect(await panel.getByLabel('Value (write-only)').inputValue()).toBe('');
    await panel.getByLabel('Secret name').fill('openai-api-key');
    await panel.getByLabel('Value (write-only)').fill(`${VALUE}-2`);
    await panel.getByRole('button', { name: 'Set secret' }).click();
    await expect.poll(() => panel.getByRole('status').textContent()).toBe('Secret openai-api-key set (version 2). It is not shown again.');
    await expect.poll(() => panel.locator('tbody tr').first().textContent()).toMatch(/^openai-api-key2.*tenant:tom/);
    expect(await page.content()).not.toContain(VALUE);
    expect((await hub.call('GET', '/api/v1/workspaces/acme-dash/secrets')).json.secrets.map((s: { name: string; version: number }) => [s.name, s.version])).toEqual([['openai-api-key', 2]]);
    page.once('dialog', (d) => void d.accept());
    await panel.getByRole('button', { name: 'Delete secret openai-api-key' }).click();
    await expect.poll(() => panel.textContent()).toContain('No secrets yet.');
    expect((await hub.call('GET', '/api/v1/workspaces/acme-dash/secrets')).json.secrets).toEqual([]);
    expect(answers.join('\n')).not.toContain(VALUE);
  });
});

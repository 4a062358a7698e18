/* eslint-disable @typescript-eslint/no-explicit-any -- responses are JSON checked by value */
/**
 * Issue 16.8 in real headless Chromium: a workspace deleted (a Git commit) whose node refused the prune is
 * shown on the dashboard's workspace page as Failed / PruneRefused with the agent's message (how to allow
 * it), and on the nodes page among the node's reasons; never as Deleted while it runs on.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { describeIf, commandWorks } from '../support/requires.js';
import { fleetFiles } from '../workspaces/git-fixture.js';
import { startWsHub, type WsHub } from '../workspaces/hub-fixture.js';
import { waitFor } from '../hub/support.js';
import { addUser, firstLogin } from './support.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const HOW = 'remove one at a time, or set spec.allowMassPrune: true in cluster.yaml or nodes/gpu-01.yaml in the revision that means it';
const REFUSAL = `refusing to prune 2 of 3 workspaces and services of node gpu-01 at once (workspace acme-p, workspace acme-q) at abc; ${HOW}`;
const available = existsSync(CHROMIUM) && commandWorks(CHROMIUM, ['--version']);

const main = (ws: string, reason: string, message?: string): any => ({ id: `ws.${ws}.main`, kind: 'container', workspace: ws, conditions: [{ type: 'Ready', status: reason === 'PruneRefused' ? 'False' : 'True', reason, ...(message === undefined ? {} : { message }) }] });

describeIf(available, 'chromium', 'apt-get install -y chromium (playwright-core drives /usr/bin/chromium)')('a refused prune on the dashboard', () => {
  let hub: WsHub;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    hub = await startWsHub(fleetFiles({ nodes: 1, gpus: 2 }), ['gpu-01']);
    const session = await firstLogin(hub.url, 'ada', await addUser(hub.store, 'ada', 'admin'), 'a-long-new-password-1');
    const [name, value] = session.cookie.split('=') as [string, string];
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    const ctx = await browser.newContext();
    await ctx.addCookies([{ name, value, url: hub.url }]);
    page = await ctx.newPage();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  });

  it('shows the workspace Failed / PruneRefused with how to allow it, and the node with the reason', { timeout: 120_000 }, async () => {
    expect((await hub.call('POST', '/api/v1/workspaces', { body: { tenant: 'acme', template: 'tiny', gpus: { count: 1 }, name: 'acme-p' } })).status).toBe(201);
    const link = hub.links.get('gpu-01')!;
    link.sendStatus({ conditions: [], resources: [main('acme-p', 'Created')] });
    expect((await hub.call('DELETE', '/api/v1/workspaces/acme-p', { tenant: 'acme' })).status).toBe(200);
    link.sendStatus({ conditions: [{ type: 'Stalled', status: 'True', reason: 'PruneRefused', message: REFUSAL }], resources: [main('acme-p', 'PruneRefused', `kept: ${REFUSAL}`)] });
    await waitFor(async () => (await hub.call('GET', '/api/v1/workspaces/acme-p')).json.status?.reason === 'PruneRefused', 10_000, 'PruneRefused in the API');

    await page.goto(`${hub.url}/ui/#/workspaces`);
    await expect.poll(() => page.getByTestId('phase-acme-p').textContent(), { timeout: 30_000 }).toMatch(/^Failed.*PruneRefused/);
    expect(await page.getByTestId('removal-acme-p').textContent()).toBe(`removed from the infra repo, but node gpu-01 keeps it running: ${REFUSAL}`);

    await page.goto(`${hub.url}/ui/#/nodes`);
    await expect.poll(() => page.locator('[data-node="gpu-01"]').textContent(), { timeout: 30_000 }).toContain(`stalled: PruneRefused (${REFUSAL})`);
  });
});

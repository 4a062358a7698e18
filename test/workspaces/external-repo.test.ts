/* eslint-disable @typescript-eslint/no-explicit-any -- responses are JSON checked by value */
/**
 * External infra repo mode (`foundry hub start --repo-url`, GitLab in production), against a real Git
 * smart-HTTP server that is not the hub: lighttpd + git http-backend with HTTP Basic auth (issue 16.5).
 * The hub commits placements and pushes them with its own credential, billing reads the external repo,
 * an admin's concurrent push does not lose the hub's placement, and the webhook makes the hub re-read.
 */
import { it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startHub, type RunningHub } from '../../hub/server.js';
import { seedHostedRepo } from '../../hub/git/hosted-repo.js';
import { HubLink } from '../../agent/link/hub-link.js';
import { describeIf } from '../support/requires.js';
import { LIGHTTPD_HOW, lighttpdAvailable, startGitHttpServer, type GitHttpServer } from '../support/git-http-server.js';
import { fleetFiles, gpuUuid, writeFiles } from './git-fixture.js';
import { PACKAGE_ROOT } from '../../common/paths.js';

const HUB_SECRET = 'hub-Secret-4f9c2a77e1';
const ADMIN_SECRET = 'admin-Secret-19ab03';
const WEBHOOK = 'webhook-Secret-77d1';

let dir: string;
let server: GitHttpServer;
let hub: RunningHub;
let admin: string;
let logs = '';
const links: HubLink[] = [];

/** git as an admin with their own credential (env-borne header, like the hub). */
function adminGit(args: string[], cwd: string, allowFail = false): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_TERMINAL_PROMPT: '0',
      GIT_AUTHOR_NAME: 'admin', GIT_AUTHOR_EMAIL: 'admin@x', GIT_COMMITTER_NAME: 'admin', GIT_COMMITTER_EMAIL: 'admin@x',
      GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`admin:${ADMIN_SECRET}`).toString('base64')}`,
    },
  });
  const out = { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
  if (out.code !== 0 && !allowFail) throw new Error(`git ${args.join(' ')}: ${out.stderr}`);
  return out;
}

const atMain = (path: string): string | undefined => {
  const r = spawnSync('git', ['--git-dir', server.repoDir, 'show', `refs/heads/main:${path}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : undefined;
};
const mainRev = (): string => spawnSync('git', ['--git-dir', server.repoDir, 'rev-parse', 'refs/heads/main'], { encoding: 'utf8' }).stdout.trim();

async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = { authorization: `Bearer ${admin}` }): Promise<{ status: number; json: Record<string, any> }> {
  const res = await hub.app.inject({ method: method as 'GET', url, headers, ...(body === undefined ? {} : { payload: body as object }) });
  return { status: res.statusCode, json: res.body === '' ? {} : (JSON.parse(res.body) as Record<string, any>) };
}

async function until(what: string, fn: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describeIf(lighttpdAvailable, 'lighttpd', LIGHTTPD_HOW)('external infra repo (lighttpd + git http-backend, HTTP Basic)', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'foundry-ext-repo-'));
    server = await startGitHttpServer(dir, { 'foundry-hub': HUB_SECRET, admin: ADMIN_SECRET });
    const src = join(dir, 'seed');
    writeFiles(src, fleetFiles({ nodes: 2, gpus: 2 }));
    await seedHostedRepo(server.repoDir, src);
    const sink = new Writable({ write: (chunk: Buffer, _e, cb) => ((logs += chunk.toString()), cb()) });
    // Polling only on demand: what moves the hub here is the API, the webhook, or the test's own sync.
    hub = await startHub({ dataDir: join(dir, 'hub'), port: 0, repoUrl: server.url, repoCredential: `foundry-hub:${HUB_SECRET}`, webhookSecret: WEBHOOK, repoPollMs: 0, logger: { level: 'debug', stream: sink } });
    admin = (await hub.store.createAdminToken('test'));
    for (const node of ['gpu-01', 'gpu-02']) {
      const link = new HubLink({ hubUrl: hub.url, node, credential: (await hub.store.issueNodeCredential(node)), stateDir: join(dir, 'agents', node), hello: () => ({ appliedRevision: null, inventory: { gpus: [], resources: [] } }) }).start();
      links.push(link);
    }
    await until('agents online', () => hub.app.hub.gateway.connectedNodes().length === 2);
  }, 60_000);
  afterAll(async () => {
    for (const l of links) await l.close();
    await hub?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the server is real and wants a credential: anonymous clones are refused', () => {
    const r = spawnSync('git', ['ls-remote', server.url], { encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Authentication failed|could not read Username|401/);
  });

  it('places through the API: the workspace file is committed as foundry-hub and pushed to the external repo (201 only once it is on main)', async () => {
    const r = await call('POST', '/api/v1/workspaces', { tenant: 'acme', template: 'tiny', gpus: { count: 1 }, name: 'acme-a' });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ name: 'acme-a', node: 'gpu-01', gpus: { uuids: [gpuUuid('gpu-01', 0)] } });
    expect(r.json.revision).toBe(mainRev());
    expect(atMain('workspaces/acme/acme-a.yaml')).toContain('node: gpu-01');
    expect(spawnSync('git', ['--git-dir', server.repoDir, 'log', '-1', '--format=%an|%s', 'main'], { encoding: 'utf8' }).stdout.trim()).toBe('foundry-hub|place acme-a on gpu-01');
    // the credential is nowhere on disk or in the logs: not in the clone's config, not in its remote URL
    const clone = join(dir, 'hub', 'work', 'gitops');
    const config = readFileSync(join(clone, '.git', 'config'), 'utf8');
    expect(config).toContain(`url = ${server.url}`);
    for (const text of [config, logs, readdirSync(join(dir, 'hub')).join('\n')]) {
      expect(text).not.toContain(HUB_SECRET);
      expect(text).not.toContain(Buffer.from(`foundry-hub:${HUB_SECRET}`).toString('base64'));
    }
  });

  it('billing reads the price lists from the external repo', async () => {
    const inv = await call('GET', '/api/v1/tenants/acme/invoices/2026-11');
    expect(inv.status).toBe(200);
    expect(inv.json).toMatchObject({ tenant: 'acme', month: '2026-11', currency: 'EUR' });
    const usage = await call('GET', '/api/v1/tenants/acme/usage?month=2026-11');
    expect(usage.status).toBe(200);
  });

  it('an admin pushes to the GPU the hub chose between its fetch and its push: the hub re-reads, re-checks and still lands its placement', async () => {
    const clone = join(dir, 'admin');
    adminGit(['clone', '--quiet', server.url, clone], dir);
    writeFiles(clone, {
      'workspaces/globex/globex-admin.yaml': `apiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: globex-admin\nspec:\n  tenant: globex\n  template: tiny\n  node: gpu-01\n  gpus:\n    count: 1\n    uuids: [${gpuUuid('gpu-01', 1)}]\n`,
    });
    adminGit(['add', '-A'], clone);
    adminGit(['commit', '--quiet', '-m', 'admin places globex-admin by hand'], clone);
    const adminRev = adminGit(['rev-parse', 'HEAD'], clone).stdout.trim();
    // pushed from inside the server right before the hub's own push arrives (the hub already read the old tip)
    server.beforeNextPush(`git -C '${clone}' push --quiet '${server.repoDir}' HEAD:refs/heads/main\n`);
    const r = await call('POST', '/api/v1/workspaces', { tenant: 'acme', template: 'tiny', gpus: { count: 1 }, name: 'acme-b' });
    expect(server.pendingBeforePush()).toBe(false);
    expect(r.status).toBe(201);
    // gpu-01's second GPU went to the admin's workspace: the re-check on the new tip moved acme-b to gpu-02
    expect(r.json).toMatchObject({ name: 'acme-b', node: 'gpu-02', gpus: { uuids: [gpuUuid('gpu-02', 0)] } });
    expect(r.json.revision).toBe(mainRev());
    expect(spawnSync('git', ['--git-dir', server.repoDir, 'merge-base', '--is-ancestor', adminRev, 'main']).status).toBe(0);
    expect(atMain('workspaces/globex/globex-admin.yaml')).toContain(gpuUuid('gpu-01', 1));
    expect(atMain('workspaces/acme/acme-b.yaml')).toContain('node: gpu-02');
  });

  it('the webhook makes the hub re-read: a workspace an admin pushed without a node is placed', async () => {
    const clone = join(dir, 'admin');
    adminGit(['pull', '--quiet', 'origin', 'main'], clone);
    writeFileSync(join(clone, 'workspaces', 'globex', 'globex-w.yaml'), '# pushed by an admin\napiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: globex-w\nspec:\n  tenant: globex\n  template: tiny\n  gpus:\n    count: 1\n');
    adminGit(['add', '-A'], clone);
    adminGit(['commit', '--quiet', '-m', 'admin adds globex-w'], clone);
    adminGit(['push', '--quiet', 'origin', 'HEAD:main'], clone);
    const after = adminGit(['rev-parse', 'HEAD'], clone).stdout.trim();
    // no polling in this hub: nothing happens until GitLab calls
    await new Promise((r) => setTimeout(r, 1500));
    expect(atMain('workspaces/globex/globex-w.yaml')).not.toContain('node:');
    const event = { object_kind: 'push', ref: 'refs/heads/main', after };
    expect((await call('POST', '/api/v1/webhooks/gitlab', event, { 'x-gitlab-token': 'wrong' })).status).toBe(401);
    const ok = await call('POST', '/api/v1/webhooks/gitlab', event, { 'x-gitlab-token': WEBHOOK });
    expect(ok.status).toBe(202);
    expect(ok.json).toEqual({ accepted: true, notified: 2 });
    await until('the hub to place globex-w', () => atMain('workspaces/globex/globex-w.yaml')?.includes('node: gpu-02') === true);
    const file = atMain('workspaces/globex/globex-w.yaml')!;
    expect(file).toContain('# pushed by an admin');
    expect(file).toContain(gpuUuid('gpu-02', 1));
    expect((await hub.store.auditLog()).map((a) => a.action)).toContain('repo.webhook');
  });

  it('admits usage against the external repo: a forged record is refused, a placement an admin pushed a moment ago straight to the server is admitted and billed', async () => {
    const [gpu01, gpu02] = links;
    const refused: Array<{ seq: number; reason: string }> = [];
    gpu01!.on('refused', (r: Array<{ seq: number; reason: string }>) => refused.push(...r));
    gpu02!.on('refused', (r: Array<{ seq: number; reason: string }>) => refused.push(...r));
    const record = (node: string, workspace: string, tenant: string, gpu: string, from: number) => ({
      kind: 'gpu-allocation', version: 1, key: `${node}/${workspace}/${gpu}/${from}`, node, workspace, tenant, gpuUuid: gpu, gpuModel: 'NVIDIA H100 80GB HBM3',
      from, to: from + 20_000, fromIso: new Date(from).toISOString(), toIso: new Date(from + 20_000).toISOString(), seconds: 20, measuredAvgUtilizationPct: 50, measuredSamples: 2,
    });
    const month = new Date().toISOString().slice(0, 7);
    const lines = async (): Promise<Array<[string, number]>> => {
      const inv = await call('GET', `/api/v1/tenants/globex/invoices/${month}`);
      expect(inv.status).toBe(200);
      return (inv.json.lines as Array<{ workspace: string; seconds: number }>).map((l) => [l.workspace, l.seconds]);
    };
    const before = await lines();
    const slot = (): number => Math.floor((Date.now() - 40_000) / 1000) * 1000;
    // forged: gpu-01 bills globex-w, which the hub placed on gpu-02 (admission was off here before)
    gpu01!.enqueueUsage(record('gpu-01', 'globex-w', 'globex', gpuUuid('gpu-02', 1), slot()));
    await until('the forged record acked', () => gpu01!.pending() === 0, 20_000);
    expect(refused.map((r) => r.reason)).toEqual(['not-placed-on-node']);
    // an admin frees gpu-02's second GPU and places globex-direct on it, pushing straight to the server (no hub, no webhook)
    const clone = join(dir, 'admin');
    adminGit(['pull', '--quiet', 'origin', 'main'], clone);
    rmSync(join(clone, 'workspaces', 'globex', 'globex-w.yaml'));
    writeFileSync(join(clone, 'workspaces', 'globex', 'globex-direct.yaml'), `apiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: globex-direct\nspec:\n  tenant: globex\n  template: tiny\n  node: gpu-02\n  gpus:\n    count: 1\n    uuids: [${gpuUuid('gpu-02', 1)}]\n`);
    adminGit(['add', '-A'], clone);
    adminGit(['commit', '--quiet', '-m', 'admin places globex-direct by hand'], clone);
    adminGit(['push', '--quiet', 'origin', 'HEAD:main'], clone);
    // at once, no webhook (the hub's clone was fetched just before, for the forged record): the gate fetches again before refusing
    gpu02!.enqueueUsage(record('gpu-02', 'globex-direct', 'globex', gpuUuid('gpu-02', 1), slot()));
    await until('the legitimate record acked', () => gpu02!.pending() === 0, 20_000);
    expect(refused.map((r) => r.reason)).toEqual(['not-placed-on-node']);
    expect((await hub.store.usageRecords()).map((r) => [r.node, (r.payload as { workspace: string }).workspace])).toEqual([['gpu-02', 'globex-direct']]);
    expect(await lines()).toEqual([...before, ['globex-direct', 20]]);
    const list = await call('GET', '/api/v1/usage/refused?node=gpu-01');
    expect(list.json.refused.map((r: { reason: string }) => r.reason)).toEqual(['not-placed-on-node']);
    expect(logs).not.toContain('usage admission is off');
  });

  it('polls as a fallback: without the webhook, a hub with --repo-poll places what an admin pushed', async () => {
    const polling = await startHub({ dataDir: join(dir, 'hub-poll'), port: 0, repoUrl: server.url, repoCredential: `foundry-hub:${HUB_SECRET}`, repoPollMs: 300, logger: false });
    const link = new HubLink({ hubUrl: polling.url, node: 'gpu-02', credential: (await polling.store.issueNodeCredential('gpu-02')), stateDir: join(dir, 'agents-poll'), hello: () => ({ appliedRevision: null, inventory: { gpus: [], resources: [] } }) }).start();
    try {
      await until('agent online', () => polling.app.hub.gateway.connectedNodes().includes('gpu-02'));
      const clone = join(dir, 'admin');
      adminGit(['pull', '--quiet', 'origin', 'main'], clone);
      writeFileSync(join(clone, 'workspaces', 'globex', 'globex-p.yaml'), 'apiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: globex-p\nspec:\n  tenant: globex\n  template: tiny\n  gpus:\n    count: 0\n');
      adminGit(['add', '-A'], clone);
      adminGit(['commit', '--quiet', '-m', 'admin adds globex-p'], clone);
      adminGit(['push', '--quiet', 'origin', 'HEAD:main'], clone);
      await until('the polling hub to place globex-p', () => atMain('workspaces/globex/globex-p.yaml')?.includes('node: gpu-02') === true);
    } finally {
      await link.close();
      await polling.close();
    }
  });

  it('a wrong credential is an error that names the repo, never the secret; a credential in the URL is refused', async () => {
    const wrong = await startHub({ dataDir: join(dir, 'hub-wrong'), port: 0, repoUrl: server.url, repoCredential: 'foundry-hub:not-the-Secret-9911', repoPollMs: 0, logger: false });
    try {
      const token = (await wrong.store.createAdminToken('t'));
      const res = await wrong.app.inject({ method: 'POST', url: '/api/v1/workspaces', headers: { authorization: `Bearer ${token}` }, payload: { tenant: 'acme', template: 'tiny', gpus: { count: 0 } } });
      expect(res.statusCode).toBe(502);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'GIT_FETCH' });
      expect(JSON.parse(res.body).message).toBe("cannot read the infra repo's main: the infra repo refused the hub's credential (authentication failed; check --repo-credential-file or FOUNDRY_HUB_REPO_CREDENTIAL)");
      expect(res.body).not.toContain('not-the-Secret-9911');
    } finally {
      await wrong.close();
    }
    const cli = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin', 'foundry.js'), 'hub', 'start', '--data-dir', join(dir, 'hub-cli'), '--port', '0', '--repo-url', server.url.replace('http://', `http://foundry-hub:${HUB_SECRET}@`)], { encoding: 'utf8', timeout: 30_000 });
    expect(cli.status).toBe(2);
    expect(cli.stderr).toContain(`--repo-url ${server.url}: remove the user and password from the URL; give the credential with --repo-credential-file or FOUNDRY_HUB_REPO_CREDENTIAL`);
    expect(cli.stderr).not.toContain(HUB_SECRET);
    const missing = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin', 'foundry.js'), 'hub', 'start', '--data-dir', join(dir, 'hub-cli'), '--port', '0', '--repo-url', server.url, '--repo-credential-file', join(dir, 'nope')], { encoding: 'utf8', timeout: 30_000 });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain(`--repo-credential-file ${join(dir, 'nope')}: cannot read it (ENOENT)`);
  });
});

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { HubLink, type HubCommand } from '../../agent/link/hub-link.js';
import { startTestHub, waitFor, tempDir, type TestHub } from './support.js';
import { describeIfBuilt } from '../support/requires.js';
import { sampleValue } from '../support/prom-text.js';

// The pre-receive hook runs the built validator (dist/): `npm test` builds first.
const describeBuilt = describeIfBuilt('dist/hub/git/pre-receive-hook.js');

let hub: TestHub;
let work: string;
let admin: string;
let nodeCred: string;
let link: HubLink;
const commands: HubCommand[] = [];

/** Runs git asynchronously: the hub answering it lives in this process. */
function git(args: string[], cwd: string, extra: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH, HOME: work, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x' };
  return new Promise((resolve) => {
    execFile('git', [...extra, ...args], { cwd, env, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}
const bearer = (token: string): string[] => ['-c', `http.extraHeader=Authorization: Bearer ${token}`];
const repoUrl = (): string => `${hub.url}/git/infra.git`;
const basicUrl = (user: string, token: string): string => repoUrl().replace('http://', `http://${user}:${token}@`);

function writeRepo(dir: string, drain: string): void {
  mkdirSync(join(dir, 'nodes'), { recursive: true });
  writeFileSync(join(dir, 'cluster.yaml'), `apiVersion: foundry.cloud/v1\nkind: Cluster\nmetadata:\n  name: main\nspec:\n  hubUrl: ${hub.url}\n`);
  writeFileSync(join(dir, 'nodes', 'gpu-01.yaml'), `apiVersion: foundry.cloud/v1\nkind: Node\nmetadata:\n  name: gpu-01\nspec:\n  profile: gpu-node\n  drain: ${drain}\n`);
}

beforeAll(async () => {
  hub = await startTestHub({ repo: true, webhookSecret: 'hook-secret-1' });
  work = tempDir('foundry-git-test-');
  admin = (await hub.store.createAdminToken('ci'));
  nodeCred = (await hub.store.issueNodeCredential('gpu-01'));
  link = new HubLink({ hubUrl: hub.url, node: 'gpu-01', credential: nodeCred, stateDir: join(work, 'agent'), handlers: { syncNow: (c) => commands.push(c) } }).start();
  await waitFor(() => link.connected, 5000, 'agent link');
});
afterAll(async () => {
  await link.close();
  await hub.close();
  rmSync(work, { recursive: true, force: true });
});

describeBuilt('hosted infra repo', () => {
  it('accepts a valid push from an admin and tells agents to sync now', async () => {
    const clone = join(work, 'admin');
    expect((await git(['clone', '--quiet', repoUrl(), clone], work, bearer(admin))).code).toBe(0);
    writeRepo(clone, 'false');
    await git(['add', '-A'], clone);
    await git(['commit', '--quiet', '-m', 'first'], clone);
    const push = await git(['push', '--quiet', 'origin', 'HEAD:main'], clone, bearer(admin));
    expect(push.stderr).toBe('');
    expect(push.code).toBe(0);
    const rev = (await git(['rev-parse', 'HEAD'], clone)).stdout.trim();
    expect((await git(['--git-dir', hub.repoDir!, 'rev-parse', 'refs/heads/main'], work)).stdout.trim()).toBe(rev);
    await waitFor(() => commands.length === 1, 5000, 'sync-now');
    expect(commands[0]).toEqual({ name: 'sync-now', revision: rev, reason: `new revision ${rev.slice(0, 12)} (push)` });
    expect(hub.store.db.prepare('SELECT revision, ref, source FROM repo_revisions').all()).toEqual([{ revision: rev, ref: 'refs/heads/main', source: 'push' }]);
  });

  it('refuses a push that fails validation and shows the errors with file and line', async () => {
    const clone = join(work, 'admin');
    const before = (await git(['--git-dir', hub.repoDir!, 'rev-parse', 'refs/heads/main'], work)).stdout.trim();
    writeRepo(clone, 'maybe');
    await git(['commit', '--quiet', '-am', 'bad drain'], clone);
    const push = await git(['push', 'origin', 'HEAD:main'], clone, bearer(admin));
    expect(push.code).not.toBe(0);
    expect(push.stderr).toContain('remote: foundry: push refused: refs/heads/main at');
    expect(push.stderr).toContain('remote:   nodes/gpu-01.yaml:7:10: spec.drain: expected true or false, got a string "maybe"');
    expect(push.stderr).toContain('pre-receive hook declined');
    expect((await git(['--git-dir', hub.repoDir!, 'rev-parse', 'refs/heads/main'], work)).stdout.trim()).toBe(before);
    expect(commands).toHaveLength(1);
  });

  it('refuses at push time a price list without a price for a GPU model a node declares, naming its file:line:column', async () => {
    const clone = join(work, 'admin');
    const before = (await git(['--git-dir', hub.repoDir!, 'rev-parse', 'refs/heads/main'], work)).stdout.trim();
    writeRepo(clone, 'false');
    writeFileSync(join(clone, 'nodes', 'gpu-01.yaml'), `apiVersion: foundry.cloud/v1\nkind: Node\nmetadata:\n  name: gpu-01\nspec:\n  profile: gpu-node\n  drain: false\n  gpus:\n    - { uuid: GPU-aaaaaaaa-0000-0000-0000-000000000001, model: NVIDIA L40S }\n`);
    mkdirSync(join(clone, 'tenants'), { recursive: true });
    writeFileSync(join(clone, 'tenants', 'acme.yaml'), 'apiVersion: foundry.cloud/v1\nkind: Tenant\nmetadata:\n  name: acme\nspec:\n  displayName: ACME\n');
    writeFileSync(join(clone, 'pricing.yaml'), 'apiVersion: foundry.cloud/v1\nkind: PriceList\nmetadata:\n  name: default\nspec:\n  currency: EUR\n  periods:\n    - effectiveFrom: 2026-01-01T00:00:00Z\n      gpuHour: { "NVIDIA H100 80GB HBM3": "2.49" }\n');
    await git(['add', '-A'], clone);
    await git(['commit', '--quiet', '-m', 'L40S node, no L40S price'], clone);
    const push = await git(['push', 'origin', 'HEAD:main'], clone, bearer(admin));
    expect(push.code).not.toBe(0);
    expect(push.stderr).toContain('remote:   pricing.yaml:9:16: spec.periods[0].gpuHour: no price for GPU model "NVIDIA L40S" (declared by node gpu-01 at nodes/gpu-01.yaml:9:64) in a price list used by tenant acme');
    expect(push.stderr).toContain('pre-receive hook declined');
    expect((await git(['--git-dir', hub.repoDir!, 'rev-parse', 'refs/heads/main'], work)).stdout.trim()).toBe(before);
    await git(['reset', '--quiet', '--hard', 'HEAD~1'], clone);
    expect(commands).toHaveLength(1);
  });

  it('lets a node read with its credential (HTTP Basic) but not push', async () => {
    const clone = join(work, 'node');
    expect((await git(['clone', '--quiet', basicUrl('gpu-01', nodeCred), clone], work)).code).toBe(0);
    writeFileSync(join(clone, 'x.txt'), 'x\n');
    await git(['add', '-A'], clone);
    await git(['commit', '--quiet', '-m', 'node tries'], clone);
    const push = await git(['push', 'origin', 'HEAD:main'], clone);
    expect(push.code).not.toBe(0);
    expect(push.stderr).toContain('403');
  });

  it('refuses anonymous and wrong credentials', async () => {
    expect((await git(['ls-remote', repoUrl()], work)).stderr).toContain('could not read Username');
    const wrong = await git(['ls-remote', basicUrl('x', 'fnc_wrong')], work);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('Authentication failed');
  });

  it('counts the pushes above in foundry_hub_git_pushes_total: one accepted, two refused by validation (a push refused before git runs is not counted)', async () => {
    const text = await (await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${admin}` } })).text();
    expect(sampleValue(text, 'foundry_hub_git_pushes_total', { result: 'accepted' })).toBe(1);
    expect(sampleValue(text, 'foundry_hub_git_pushes_total', { result: 'refused' })).toBe(2);
  });
});

describe('gitlab webhook', () => {
  const hook = (token: string | undefined, body: unknown): Promise<Response> =>
    fetch(`${hub.url}/api/v1/webhooks/gitlab`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { 'x-gitlab-token': token }) }, body: JSON.stringify(body) });

  it('refuses a missing or wrong token', async () => {
    expect((await hook(undefined, { object_kind: 'push', after: 'abcdef1' })).status).toBe(401);
    expect((await hook('hook-secret-2', { object_kind: 'push', after: 'abcdef1' })).status).toBe(401);
  });

  it('learns a new revision from a push event and tells agents to sync', async () => {
    const n = commands.length;
    const res = await hook('hook-secret-1', { object_kind: 'push', ref: 'refs/heads/main', after: 'abcdef1234567' });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: true, notified: 1 });
    await waitFor(() => commands.length === n + 1, 5000, 'sync-now from webhook');
    expect(commands.at(-1)).toMatchObject({ name: 'sync-now', revision: 'abcdef1234567' });
  });

  it('answers 400 for a body that is not a push event', async () => {
    expect((await hook('hook-secret-1', { after: 'zz' })).status).toBe(400);
  });
});

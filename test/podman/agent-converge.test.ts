/**
 * The agent converging a real Podman from a real git repo, step by step: first apply, spec change
 * (recreate, data kept), drift (stopped and removed by hand), unmanaged containers, a stopped workspace,
 * and pruning with the volume kept or deleted according to reclaimPolicy.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeIf } from '../support/requires.js';
import { PODMAN_HOW, podmanAvailable, startPrivatePodman, TEST_IMAGE, type PrivatePodman } from '../support/podman.js';
import { commitRepo, initGitRepo, type RepoSpec } from '../agent/infra-fixture.js';
import { managedContainers, testAgent, volumesAndNetworks, type TestAgent } from '../agent/agent-harness.js';
import type { AgentStatus } from '../../agent/reconcile/status.js';

const NODE = 'conv-01';
const app = (version: string): RepoSpec['templates'][string] => [
  { name: 'db', image: TEST_IMAGE, pullPolicy: 'Never', command: ['sh', '-c', `echo ${version} >> /data/log; exec sleep 600`], volumes: [{ name: 'data', mountPath: '/data' }] },
  { name: 'web', image: TEST_IMAGE, pullPolicy: 'IfNotPresent', command: ['httpd', '-f', '-p', '8080', '-h', '/www'] },
];

describeIf(podmanAvailable(), 'podman', PODMAN_HOW)('agent converges podman from git (real podman, real git)', () => {
  let pm: PrivatePodman;
  let repo: string;
  let agent: TestAgent;
  const spec = (over: Partial<RepoSpec> = {}): RepoSpec => ({ node: NODE, templates: { app: app('v1') }, workspaces: { 'acme-a': { template: 'app' }, 'acme-b': { template: 'app', reclaimPolicy: 'Delete' } }, ...over });
  const status = (): AgentStatus => JSON.parse(readFileSync(join(agent.stateDir, 'status.json'), 'utf8')) as AgentStatus;

  beforeAll(async () => {
    pm = await startPrivatePodman();
    repo = mkdtempSync(join(tmpdir(), 'fc-repo-'));
    initGitRepo(repo);
    agent = testAgent(pm, repo, NODE);
    // Waits for the Podman test lock while another file uses Podman: allow for that.
  }, 600_000);
  afterAll(async () => {
    await pm?.stop();
    agent?.cleanup();
    rmSync(repo, { recursive: true, force: true });
  });

  it('first apply: creates networks, volumes and containers, all Ready, and logs each action with its reason', async () => {
    const rev = commitRepo(repo, spec(), 'two workspaces');
    const r = await agent.reconciler.trigger('test');
    expect(r.converged).toBe(true);
    expect((await managedContainers(pm, NODE)).lines).toEqual(['fc-ws-acme-a-db running', 'fc-ws-acme-a-web running', 'fc-ws-acme-b-db running', 'fc-ws-acme-b-web running']);
    const s = status();
    expect(s.observedRevision).toBe(rev);
    expect(s.lastAppliedRevision).toBe(rev);
    expect(s.conditions[0]).toEqual({ type: 'Ready', status: 'True', reason: 'ReconciliationSucceeded', message: `applied revision ${rev}` });
    expect(s.resources.map((x) => `${x.id} ${x.phase} ${x.reason}`)).toEqual([
      'ws.acme-a.db Ready Created',
      'ws.acme-a.net Ready Created',
      'ws.acme-a.vol.data Ready Created',
      'ws.acme-a.web Ready Created',
      'ws.acme-b.db Ready Created',
      'ws.acme-b.net Ready Created',
      'ws.acme-b.vol.data Ready Created',
      'ws.acme-b.web Ready Created',
    ]);
    const applied = agent.logs.filter((l) => l.event === 'applied').map((l) => `${l.action} ${l.id}: ${l.msg}`);
    expect(applied).toContain('create ws.acme-a.db: create: declared and not present');
    expect(applied).toHaveLength(8);
    // A second run changes nothing.
    const again = await agent.reconciler.trigger('test');
    expect(again.status.lastReconcile.counts).toEqual({ create: 0, recreate: 0, start: 0, stop: 0, remove: 0, noop: 8 });
  });

  it('spec change: recreates only the changed container, and its volume keeps the data', async () => {
    const before = (await managedContainers(pm, NODE)).ids;
    commitRepo(repo, spec({ templates: { app: app('v2') } }), 'db v2');
    const r = await agent.reconciler.trigger('test');
    expect(r.converged).toBe(true);
    const after = (await managedContainers(pm, NODE)).ids;
    expect(after['fc-ws-acme-a-db']).not.toBe(before['fc-ws-acme-a-db']);
    expect(after['fc-ws-acme-a-web']).toBe(before['fc-ws-acme-a-web']);
    expect(pm.podman(['exec', 'fc-ws-acme-a-db', 'cat', '/data/log']).stdout).toBe('v1\nv2\n');
    const recreated = agent.logs.filter((l) => l.event === 'applied' && l.action === 'recreate').map((l) => l.id).sort(); // actions of one phase run in parallel (agent/reconcile), so log order varies
    expect(recreated).toEqual(['ws.acme-a.db', 'ws.acme-b.db']);
    expect(r.status.resources.find((x) => x.id === 'ws.acme-a.db')).toMatchObject({ phase: 'Ready', reason: 'Recreated', message: expect.stringMatching(/^recreate: spec changed \(hash \w+ -> \w+\)$/) });
  });

  it('drift: a container stopped by hand is started, one removed by hand is created again', async () => {
    pm.podman(['stop', '-t', '0', 'fc-ws-acme-a-web']);
    pm.podman(['rm', '-f', '-t', '0', 'fc-ws-acme-b-web']);
    const r = await agent.reconciler.trigger('test');
    expect(r.converged).toBe(true);
    expect((await managedContainers(pm, NODE)).lines).toEqual(['fc-ws-acme-a-db running', 'fc-ws-acme-a-web running', 'fc-ws-acme-b-db running', 'fc-ws-acme-b-web running']);
    expect(r.status.resources.find((x) => x.id === 'ws.acme-a.web')).toMatchObject({ reason: 'Started', message: 'start: found stopped, expected running (stopped outside the agent or crashed)' });
    expect(r.status.resources.find((x) => x.id === 'ws.acme-b.web')).toMatchObject({ reason: 'Created' });
  });

  it('leaves unmanaged containers, networks and volumes alone', async () => {
    pm.podman(['volume', 'create', 'user-data']);
    pm.podman(['network', 'create', 'user-net']);
    pm.podman(['run', '-d', '--name', 'user-app', '--network', 'user-net', '-v', 'user-data:/d', TEST_IMAGE, 'sleep', '600']);
    const r = await agent.reconciler.trigger('test');
    expect(r.converged).toBe(true);
    expect(pm.podman(['inspect', '--format', '{{.State.Status}}', 'user-app']).stdout.trim()).toBe('running');
    expect(r.status.resources.map((x) => x.id)).not.toContain('user-app');
    const vn = await volumesAndNetworks(pm);
    expect(vn.volumes).toContain('user-data');
    expect(vn.networks).toContain('user-net');
  });

  it('a stopped workspace keeps its containers, stopped', async () => {
    commitRepo(repo, spec({ templates: { app: app('v2') }, workspaces: { 'acme-a': { template: 'app', state: 'stopped' }, 'acme-b': { template: 'app', reclaimPolicy: 'Delete' } } }), 'stop acme-a');
    const r = await agent.reconciler.trigger('test');
    expect(r.converged).toBe(true);
    expect((await managedContainers(pm, NODE)).lines).toEqual(['fc-ws-acme-a-db exited', 'fc-ws-acme-a-web exited', 'fc-ws-acme-b-db running', 'fc-ws-acme-b-web running']);
  });

  it('prune: a removed workspace loses its containers and network; its volume stays unless reclaimPolicy is Delete', async () => {
    // Removing acme-b (2 of 4 containers) is not a mass prune; then acme-a goes with allowMassPrune.
    commitRepo(repo, spec({ templates: { app: app('v2') }, workspaces: { 'acme-a': { template: 'app', state: 'stopped' } } }), 'remove acme-b');
    const r = await agent.reconciler.trigger('test');
    expect(r.converged).toBe(true);
    expect((await managedContainers(pm, NODE)).lines).toEqual(['fc-ws-acme-a-db exited', 'fc-ws-acme-a-web exited']);
    let vn = await volumesAndNetworks(pm);
    expect(vn.volumes).toEqual(['fc-ws-acme-a-data', 'user-data']);
    expect(vn.networks).toEqual(['fc-ws-acme-a', 'user-net']);
    expect(r.status.resources.filter((x) => x.reason === 'Pruned').map((x) => x.id)).toEqual(['ws.acme-b.db', 'ws.acme-b.net', 'ws.acme-b.vol.data', 'ws.acme-b.web']);

    commitRepo(repo, spec({ templates: { app: app('v2') }, workspaces: {}, allowMassPrune: true }), 'remove acme-a (mass prune allowed)');
    const r2 = await agent.reconciler.trigger('test');
    expect(r2.converged).toBe(true);
    expect((await managedContainers(pm, NODE)).lines).toEqual([]);
    vn = await volumesAndNetworks(pm);
    // acme-a's volume is retained (default reclaimPolicy Retain) and reported as such.
    expect(vn.volumes).toEqual(['fc-ws-acme-a-data', 'user-data']);
    expect(vn.networks).toEqual(['user-net']);
    expect(r2.status.resources.find((x) => x.id === 'ws.acme-a.vol.data')).toMatchObject({ phase: 'Ready', reason: 'Retained', message: 'kept: no longer declared, volume retained (reclaimPolicy Retain)' });
    expect(pm.podman(['inspect', '--format', '{{.State.Status}}', 'user-app']).stdout.trim()).toBe('running');
  });
});

/**
 * Resource identity and the mass-prune guard on real Podman and git: containers named `net`, `vol` and
 * `vm` beside their workspace's network, volume and each other converge and stay converged; removing the
 * only workspace of a node by Git needs no flag; removing most workspaces at once is refused and shown on
 * each held resource with its workspace.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeIf } from '../support/requires.js';
import { PODMAN_HOW, podmanAvailable, startPrivatePodman, TEST_IMAGE, type PrivatePodman } from '../support/podman.js';
import { commitRepo, initGitRepo, type RepoSpec } from '../agent/infra-fixture.js';
import { managedContainers, testAgent, volumesAndNetworks, type TestAgent } from '../agent/agent-harness.js';

const sleeper = (name: string, extra: Record<string, unknown> = {}): RepoSpec['templates'][string][number] => ({ name, image: TEST_IMAGE, pullPolicy: 'Never', command: ['sleep', '600'], ...extra });

describeIf(podmanAvailable(), 'podman', PODMAN_HOW)('resource identity and the prune guard (real podman, real git)', () => {
  let pm: PrivatePodman;
  let tmp: string;
  const agents: TestAgent[] = [];

  beforeAll(async () => {
    pm = await startPrivatePodman();
    tmp = mkdtempSync(join(tmpdir(), 'fc-ident-'));
    // Waits for the Podman test lock while another file uses Podman: allow for that.
  }, 600_000);
  afterAll(async () => {
    await pm?.stop();
    for (const a of agents) a.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  function setup(node: string): { repo: string; agent: TestAgent } {
    const repo = join(tmp, node);
    initGitRepo(repo);
    const agent = testAgent(pm, repo, node);
    agents.push(agent);
    return { repo, agent };
  }

  it('converges containers named net, vol and vm beside the workspace network and volume, and then has nothing to do', async () => {
    const { repo, agent } = setup('ident-01');
    const spec: RepoSpec = { node: 'ident-01', templates: { clash: [sleeper('net', { volumes: [{ name: 'net', mountPath: '/data' }] }), sleeper('vol'), sleeper('vm')] }, workspaces: { in1: { template: 'clash' } } };
    commitRepo(repo, spec, 'containers named like the resources of their workspace');
    const first = await agent.reconciler.trigger('test');
    expect(first.converged).toBe(true);
    expect((await managedContainers(pm, 'ident-01')).lines).toEqual(['fc-ws-in1-net running', 'fc-ws-in1-vm running', 'fc-ws-in1-vol running']);
    const vn = await volumesAndNetworks(pm);
    expect(vn.networks).toContain('fc-ws-in1');
    expect(vn.volumes).toContain('fc-ws-in1-net');
    expect(first.status.resources.map((r) => `${r.kind} ${r.id} ${r.workspace ?? '-'} ${r.reason}`)).toEqual([
      'container ws.in1.net in1 Created',
      'network ws.in1.net in1 Created',
      'container ws.in1.vm in1 Created',
      'container ws.in1.vol in1 Created',
      'volume ws.in1.vol.net in1 Created',
    ]);
    const ids = (await managedContainers(pm, 'ident-01')).ids;
    for (let i = 0; i < 2; i++) {
      const again = await agent.reconciler.trigger('test');
      expect(again.converged).toBe(true);
      expect(again.status.lastReconcile.counts).toEqual({ create: 0, recreate: 0, start: 0, stop: 0, remove: 0, noop: 5 });
    }
    expect((await managedContainers(pm, 'ident-01')).ids).toEqual(ids);
    expect(pm.podman(['inspect', '--format', '{{index .Config.Labels "foundry.cloud/name"}}', 'fc-ws-in1-net']).stdout.trim()).toBe('net');
  });

  it('removes the only workspace of a node by Git without a flag; refuses most of a busy node at once and shows it per workspace', async () => {
    const { repo, agent } = setup('prune-02');
    const spec = (ws: string[]): RepoSpec => ({ node: 'prune-02', templates: { s: [sleeper('main')] }, workspaces: Object.fromEntries(ws.map((w) => [w, { template: 's' }])) });
    commitRepo(repo, spec(['pa']), 'one workspace');
    expect((await agent.reconciler.trigger('test')).converged).toBe(true);
    commitRepo(repo, spec([]), 'remove the only workspace');
    const gone = await agent.reconciler.trigger('test');
    expect(gone.converged).toBe(true);
    expect(gone.status.errors).toEqual([]);
    expect((await managedContainers(pm, 'prune-02')).lines).toEqual([]);

    commitRepo(repo, spec(['pb', 'pc', 'pd']), 'three workspaces');
    expect((await agent.reconciler.trigger('test')).converged).toBe(true);
    const rev = commitRepo(repo, spec(['pd']), 'drop two of three');
    const refused = await agent.reconciler.trigger('test');
    expect(refused.status.errors.map((e) => e.code)).toEqual(['PRUNE_REFUSED']);
    expect((await managedContainers(pm, 'prune-02')).lines).toEqual(['fc-ws-pb-main running', 'fc-ws-pc-main running', 'fc-ws-pd-main running']);
    const held = refused.status.resources.filter((r) => r.reason === 'PruneRefused');
    expect(held.map((r) => `${r.kind} ${r.workspace}`)).toEqual(['container pb', 'network pb', 'container pc', 'network pc']);
    expect(held[0]?.message).toBe(`kept: refusing to prune 2 of 3 workspaces and services of node prune-02 at once (workspace pb, workspace pc) at ${rev}; remove one at a time, or set spec.allowMassPrune: true in cluster.yaml or nodes/prune-02.yaml in the revision that means it`);

    commitRepo(repo, spec(['pc', 'pd']), 'drop one of three, deliberately');
    const one = await agent.reconciler.trigger('test');
    expect(one.converged).toBe(true);
    expect((await managedContainers(pm, 'prune-02')).lines).toEqual(['fc-ws-pc-main running', 'fc-ws-pd-main running']);
  });
});

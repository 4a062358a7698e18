/**
 * End to end: API request → placement committed to the hosted repo → the agent's real reconciler (real
 * git, real Podman) creates the containers → its status, sent over the real agent link, makes the
 * workspace Running → usage records (the agent's UsageEmitter; the GPU itself is the one stand-in: no
 * NVIDIA GPU here, so "running and holding its GPUs" is observed from Podman and the Git placement) →
 * invoice lines → delete → containers pruned → billing stops.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeIf } from '../support/requires.js';
import { PODMAN_HOW, podmanAvailable, startPrivatePodman, TEST_IMAGE, type PrivatePodman } from '../support/podman.js';
import { managedContainers, testAgent, type TestAgent } from '../agent/agent-harness.js';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { UsageEmitter } from '../../agent/usage/usage-emitter.js';
import type { AgentStatus } from '../../agent/reconcile/status.js';
import { fleetFiles, gpuUuid } from '../workspaces/git-fixture.js';
import { startWsHub, type WsHub } from '../workspaces/hub-fixture.js';

const NODE = 'gpu-01';
const built = existsSync(join(PACKAGE_ROOT, 'dist', 'hub', 'git', 'pre-receive-hook.js'));

/** The agent's status in the protocol's shape (conditions per resource). */
function protocolStatus(s: AgentStatus) {
  return {
    observedRevision: s.observedRevision ?? null,
    lastAppliedRevision: s.lastAppliedRevision ?? null,
    conditions: s.conditions.map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message })),
    resources: s.resources.map((r) => ({
      id: r.id,
      kind: r.kind,
      ...(r.workspace === undefined ? {} : { workspace: r.workspace }),
      conditions:
        r.phase === 'Ready'
          ? [{ type: 'Ready', status: 'True' as const, reason: r.reason }]
          : [{ type: 'Ready', status: 'False' as const, reason: r.reason }, ...(r.phase === 'Stalled' ? [{ type: 'Stalled', status: 'True' as const, reason: r.reason, message: r.message }] : [])],
    })),
  };
}

describeIf(podmanAvailable() && built, 'podman', PODMAN_HOW)('workspace lifecycle end to end (real git, real podman, real agent link)', () => {
  let hub: WsHub;
  let pm: PrivatePodman;
  let agent: TestAgent;

  beforeAll(async () => {
    const files = fleetFiles({ nodes: 1, gpus: 2 });
    // no `gpus: true` on the container: without an NVIDIA GPU there is no CDI spec to inject (the CDI path is tested in the podman driver tests)
    files['templates/tiny.yaml'] = `apiVersion: foundry.cloud/v1\nkind: WorkspaceTemplate\nmetadata:\n  name: tiny\nspec:\n  containers:\n    - name: main\n      image: ${TEST_IMAGE}\n      pullPolicy: Never\n      command: [sleep, "600"]\n`;
    // No allowMassPrune: deleting the only workspace of the node is a deliberate removal the guard lets through.
    // the built-in gpu-node profile runs node-exporter from quay.io, which cannot be pulled here: a profile without it
    files['profiles/e2e-gpu.yaml'] = 'apiVersion: foundry.cloud/v1\nkind: NodeProfile\nmetadata:\n  name: e2e-gpu\nspec:\n  description: gpu node without the exporter\n  hostsWorkspaces: true\n';
    files[`nodes/${NODE}.yaml`] = files[`nodes/${NODE}.yaml`]!.replace('profile: gpu-node', 'profile: e2e-gpu');
    hub = await startWsHub(files, [NODE]);
    pm = await startPrivatePodman();
    agent = testAgent(pm, hub.repoDir, NODE);
  }, 600_000);
  afterAll(async () => {
    await pm?.stop();
    agent?.cleanup();
    await hub?.close();
  });

  it('request → commit → containers → Running → usage → invoice → delete → pruned → billing stops', async () => {
    const link = hub.links.get(NODE)!;
    const reconcile = async (): Promise<AgentStatus> => {
      const r = await agent.reconciler.trigger('sync-now');
      link.sendStatus(protocolStatus(r.status));
      return r.status;
    };
    const phase = async (name: string): Promise<string> => ((await hub.call('GET', `/api/v1/workspaces/${name}`)).json as { status: { phase: string } }).status.phase;
    const waitPhase = async (name: string, want: string): Promise<void> => {
      const end = Date.now() + 15_000;
      while ((await phase(name)) !== want && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      expect(await phase(name)).toBe(want);
    };

    // 1. request: placed and committed
    const created = await hub.call('POST', '/api/v1/workspaces', { tenant: 'acme', body: { tenant: 'acme', template: 'tiny', gpus: { count: 1 }, name: 'acme-e2e' } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ node: NODE, gpus: { uuids: [gpuUuid(NODE, 0)] } });
    expect(await phase('acme-e2e')).toBe('Placed');

    // 2. the agent converges from the hosted repo: the container runs; its status makes the workspace Running
    const s = await reconcile();
    expect(s.lastAppliedRevision).toBe(created.json.revision);
    expect((await managedContainers(pm, NODE)).lines).toEqual(['fc-ws-acme-e2e-main running']);
    await waitPhase('acme-e2e', 'Running');

    // 3. usage: the emitter observes the running workspace holding its GPU for 30 s (injected clock)
    let now = Math.ceil(Date.now() / 10_000) * 10_000;
    const emitter = new UsageEmitter({ node: NODE, clock: () => now, sink: (r) => void link.enqueueUsage(r as unknown as Record<string, unknown>) });
    const observe = async (): Promise<void> => {
      const running = (await managedContainers(pm, NODE)).lines.some((l) => l === 'fc-ws-acme-e2e-main running');
      emitter.observe(running ? [{ workspace: 'acme-e2e', tenant: 'acme', running: true, gpus: [{ uuid: gpuUuid(NODE, 0), model: 'NVIDIA H100 80GB HBM3' }] }] : []);
    };
    const t0 = now;
    for (; now < t0 + 30_000; now += 5_000) await observe();
    await emitter.tick();
    const end = Date.now() + 10_000;
    while (link.pending() > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    const month = new Date(t0).toISOString().slice(0, 7);
    const inv = async (): Promise<{ lines: Array<{ workspace: string; seconds: number; amount: string }> }> =>
      (await hub.call('GET', `/api/v1/tenants/acme/invoices/${month}`, { tenant: 'acme' })).json;
    expect((await inv()).lines.map((l) => [l.workspace, l.seconds, l.amount])).toEqual([['acme-e2e', 30, '0.02']]);

    // 4. delete: the file leaves Git, the agent prunes the container, the workspace is Deleted, billing stops
    expect((await hub.call('DELETE', '/api/v1/workspaces/acme-e2e', { tenant: 'acme' })).status).toBe(200);
    await reconcile();
    expect((await managedContainers(pm, NODE)).lines).toEqual([]);
    await waitPhase('acme-e2e', 'Deleted');
    for (; now < t0 + 60_000; now += 5_000) await observe();
    await emitter.tick();
    expect(link.pending()).toBe(0);
    expect((await inv()).lines.map((l) => [l.workspace, l.seconds])).toEqual([['acme-e2e', 30]]);
  }, 300_000);
});

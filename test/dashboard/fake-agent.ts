/**
 * A node agent for the dashboard's browser test: the real HubLink, the real NVIDIA plugin reading
 * scripts/fake-nvidia-smi (real H100 captures), the real TelemetryLoop and UsageEmitter. Only the
 * reconciler is stood in for: instead of converging Podman, it reads the workspaces placed on its node
 * from the hub's API and reports their containers Ready (what the real agent reports once they run).
 */
import { join } from 'node:path';
import { HubLink } from '../../agent/link/hub-link.js';
import { NvidiaGpuPlugin } from '../../agent/gpu/nvidia-plugin.js';
import { TelemetryLoop } from '../../agent/telemetry-loop.js';
import { UsageEmitter } from '../../agent/usage/usage-emitter.js';
import type { WorkspaceAllocation } from '../../agent/usage/usage-types.js';
import type { HostMetrics } from '../../agent/host/host-metrics.js';
import { PACKAGE_ROOT } from '../../common/paths.js';

/** A Ceph node's stand-in agent: the real HubLink and TelemetryLoop, no GPUs, a fixed `ceph df` report. */
export async function startCephAgent(o: { url: string; node: string; credential: string; stateDir: string; storage: NonNullable<HostMetrics['storage']> }): Promise<FakeAgent> {
  const link = new HubLink({ hubUrl: o.url, node: o.node, credential: o.credential, stateDir: o.stateDir, hello: () => ({ appliedRevision: null, inventory: { gpus: [], resources: [] } }) }).start();
  const host = async (): Promise<HostMetrics> => ({ at: Date.now(), cpu: { loadPct: 3, load1: 0.1 }, memory: { usedBytes: 4 * 2 ** 30, totalBytes: 32 * 2 ** 30 }, storage: o.storage }) as unknown as HostMetrics;
  const loop = new TelemetryLoop({ node: o.node, gpu: { stats: async () => ({ at: Date.now(), available: false, gpus: [], processes: [] }) }, host, send: (body) => void link.sendTelemetry(body), intervalMs: 500 });
  loop.start();
  return fakeAgentOf(link, () => loop.stop());
}

/** A running stand-in agent. */
export interface FakeAgent {
  link: HubLink;
  close(): Promise<void>;
}

/** The declared resources of e2e-hub.ts's `tiny` template (two vCPUs, no memory limit, no VM disk). */
const TINY_RESOURCES = { milliVcpus: 2000, memoryBytes: 0, storageBytes: 0 };

interface ApiWorkspace { name: string; tenant: string; node: string | null; state: string | null; gpus: { uuids: string[] } }

/** Starts the agent of `node` against the hub at `url` (admin token to read its workspaces). */
export async function startFakeAgent(o: { url: string; node: string; credential: string; adminToken: string; stateDir: string }): Promise<FakeAgent> {
  process.env.FAKE_NVIDIA_SMI_SCENARIO = 'h100-load';
  const gpu = new NvidiaGpuPlugin({ command: join(PACKAGE_ROOT, 'scripts', 'fake-nvidia-smi') });
  const inventory = await gpu.fingerprint();
  const models = new Map(inventory.gpus.map((g) => [g.uuid, g.model]));
  const link = new HubLink({
    hubUrl: o.url, node: o.node, credential: o.credential, stateDir: o.stateDir,
    hello: () => ({ appliedRevision: null, inventory: { gpus: inventory.gpus.map((g) => ({ uuid: g.uuid, model: g.model, memoryTotalMiB: g.memoryTotalMiB, pciBusId: g.pciBusId })), resources: [] } }),
  }).start();
  let running: WorkspaceAllocation[] = [];
  let revision: string | null = null;
  const reconcile = async (): Promise<void> => {
    const r = await fetch(`${o.url}/api/v1/workspaces`, { headers: { authorization: `Bearer ${o.adminToken}` } });
    if (!r.ok) return;
    const body = (await r.json()) as { revision: string; workspaces: ApiWorkspace[] };
    const mine = body.workspaces.filter((w) => w.node === o.node && w.state === 'running');
    // What the real agent derives from the rendered template: e2e-hub.ts's `tiny` template declares cpus: 2.
    running = mine.map((w) => ({ workspace: w.name, tenant: w.tenant, gpus: w.gpus.uuids.map((u) => ({ uuid: u, model: models.get(u) ?? null })), running: true, resources: TINY_RESOURCES }));
    if (body.revision === revision) return;
    revision = body.revision;
    const at = new Date().toISOString();
    link.sendStatus({
      observedRevision: revision, lastAppliedRevision: revision,
      conditions: [{ type: 'Ready', status: 'True', reason: 'ReconciliationSucceeded', message: `applied ${revision.slice(0, 12)}`, lastTransitionTime: at }],
      resources: mine.map((w) => ({ id: `ws.${w.name}.main`, kind: 'container', workspace: w.name, conditions: [{ type: 'Ready', status: 'True', reason: 'ContainerRunning', lastTransitionTime: at }] })),
      reconcile: { result: 'success', durationMs: 12 },
    });
  };
  const host = async (): Promise<HostMetrics> => ({ at: Date.now(), cpu: { loadPct: 12.5, load1: 0.4 }, memory: { usedBytes: 8 * 2 ** 30, totalBytes: 64 * 2 ** 30 } }) as unknown as HostMetrics;
  const usage = new UsageEmitter({
    node: o.node,
    resolutionMs: 1000,
    sink: (record) => void link.enqueueUsage({ ...record }),
  });
  const loop = new TelemetryLoop({ node: o.node, gpu, host, send: (body) => void link.sendTelemetry(body), usage, allocations: () => running, intervalMs: 500 });
  loop.start();
  const timer = setInterval(() => void reconcile().catch(() => undefined), 500);
  return fakeAgentOf(link, () => {
    clearInterval(timer);
    loop.stop();
  });
}

/** The FakeAgent of a started link: close() runs `stop` and closes the link, once. */
function fakeAgentOf(link: HubLink, stop: () => void): FakeAgent {
  let closed = false;
  return {
    link,
    async close() {
      if (closed) return;
      closed = true;
      stop();
      await link.close();
    },
  };
}

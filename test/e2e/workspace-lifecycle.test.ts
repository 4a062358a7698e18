/**
 * End to end through the production path: API request → placement committed to the hosted repo → the
 * node agent's composition root (`startNodeAgent`, as `foundry agent run` starts it: real git, real
 * Podman, the hub link) converges and reports status, so the workspace is Running → its telemetry tick
 * computes the allocations (workspaceAllocations from the desired state, Podman's view and nvidia-smi's
 * devices) and its UsageEmitter writes usage records into the durable outbox → the hub's admission gate
 * admits them against the Git history of placements → invoice lines → delete → containers pruned →
 * billing stops. Stand-ins, only for the NVIDIA GPU: the fake nvidia-smi (scripts/fake-nvidia-smi,
 * replaying real captures) and a CDI spec in /var/run/cdi that gives the container a /dev/null device
 * under the GPU's UUID.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describeIf } from '../support/requires.js';
import { PODMAN_HOW, podmanAvailable, startPrivatePodman, TEST_IMAGE, type PrivatePodman } from '../support/podman.js';
import { managedContainers } from '../agent/agent-harness.js';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { resolveConfig } from '../../agent/config/load-config.js';
import { startNodeAgent, type NodeAgent } from '../../agent/node-agent.js';
import { fleetFiles } from '../workspaces/git-fixture.js';
import { startWsHub, type WsHub } from '../workspaces/hub-fixture.js';

const NODE = 'gpu-01';
/** The GPU the fake nvidia-smi reports (its captures' UUID, made anonymous by whoever captured them). */
const GPU = 'GPU-00000000-0000-0000-0000-000000000000';
const MODEL = 'NVIDIA H100 80GB HBM3';
const CDI_FILE = '/var/run/cdi/foundry-e2e-lifecycle.json';
const built = existsSync(join(PACKAGE_ROOT, 'dist', 'hub', 'git', 'pre-receive-hook.js'));

describeIf(podmanAvailable() && built, 'podman', PODMAN_HOW)('workspace lifecycle end to end (real git, real podman, the node agent as foundry agent run starts it)', () => {
  let hub: WsHub;
  let pm: PrivatePodman;
  let node: NodeAgent | undefined;
  let dir: string;

  beforeAll(async () => {
    mkdirSync('/var/run/cdi', { recursive: true });
    writeFileSync(CDI_FILE, JSON.stringify({ cdiVersion: '0.3.0', kind: 'nvidia.com/gpu', devices: [{ name: GPU, containerEdits: { deviceNodes: [{ path: '/dev/fake-nvidia0', hostPath: '/dev/null' }] } }] }));
    const files = fleetFiles({ nodes: 1, gpus: 0 });
    files['templates/tiny.yaml'] = `apiVersion: foundry.cloud/v1\nkind: WorkspaceTemplate\nmetadata:\n  name: tiny\nspec:\n  containers:\n    - name: main\n      image: ${TEST_IMAGE}\n      pullPolicy: Never\n      command: [sleep, "600"]\n      gpus: true\n`;
    // the built-in gpu-node profile runs node-exporter from quay.io, which cannot be pulled here: a profile without it
    files['profiles/e2e-gpu.yaml'] = 'apiVersion: foundry.cloud/v1\nkind: NodeProfile\nmetadata:\n  name: e2e-gpu\nspec:\n  description: gpu node without the exporter\n  hostsWorkspaces: true\n';
    // No allowMassPrune: deleting the only workspace of the node is a deliberate removal the guard lets through.
    files[`nodes/${NODE}.yaml`] = `apiVersion: foundry.cloud/v1\nkind: Node\nmetadata:\n  name: ${NODE}\nspec:\n  profile: e2e-gpu\n  gpus:\n    - uuid: ${GPU}\n      model: ${MODEL}\n`;
    hub = await startWsHub(files);
    pm = await startPrivatePodman();
    dir = mkdtempSync(join(tmpdir(), 'foundry-e2e-agent-'));
    const credentialFile = join(dir, 'credential');
    writeFileSync(credentialFile, `${(await hub.store.issueNodeCredential(NODE))}\n`, { mode: 0o600 });
    const config = resolveConfig({
      node: NODE,
      // the hub's hosted repo over smart HTTP, read with the node credential (as `foundry dev` and enrolled nodes do)
      repo: { url: `${hub.url}/git/infra.git`, branch: 'main' },
      cacheDir: join(dir, 'cache'),
      stateDir: join(dir, 'state'),
      podman: { socketPath: pm.socketPath },
      hub: { url: hub.url, credentialFile },
    }, join(dir, 'agent.yaml'));
    process.env.FAKE_NVIDIA_SMI_SCENARIO = 'h100-idle';
    node = await startNodeAgent(config, pino({ level: process.env.E2E_AGENT_LOG === undefined ? 'silent' : 'debug' }, process.env.E2E_AGENT_LOG === undefined ? undefined : pino.destination(process.env.E2E_AGENT_LOG)), { nvidiaSmi: join(PACKAGE_ROOT, 'scripts', 'fake-nvidia-smi'), telemetryIntervalMs: 250, usageResolutionMs: 1000 });
    const start = Date.now();
    while (!hub.app.hub.gateway.connectedNodes().includes(NODE)) {
      if (Date.now() - start > 20_000) throw new Error('the node agent did not connect');
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 600_000);
  afterAll(async () => {
    await node?.stop();
    await pm?.stop();
    await hub?.close();
    delete process.env.FAKE_NVIDIA_SMI_SCENARIO;
    rmSync(CDI_FILE, { force: true });
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('request → commit → containers → Running → usage through the admission gate → invoice → delete → pruned → billing stops', async () => {
    const until = async <T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> => {
      const end = Date.now() + ms;
      for (;;) {
        const v = await fn();
        if (v !== undefined) return v;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const phase = async (name: string): Promise<string> => ((await hub.call('GET', `/api/v1/workspaces/${name}`)).json as { status: { phase: string } | null }).status?.phase ?? 'none';
    const month = new Date().toISOString().slice(0, 7);
    const billed = async (): Promise<Array<{ workspace: string; gpuModel?: string; seconds: number; amount: string }>> =>
      (await hub.call('GET', `/api/v1/tenants/acme/invoices/${month}`, { tenant: 'acme' })).json.lines;
    const billedSeconds = async (): Promise<number> => (await billed()).reduce((s, l) => s + l.seconds, 0);
    const storedSeconds = async (): Promise<number> => (await hub.store.usageRecords(NODE)).reduce((s, r) => s + (r.payload as { seconds: number }).seconds, 0);
    const drained = async (): Promise<void> => {
      await until('outbox drained', async () => (node!.link!.pending() === 0 ? true : undefined), 20_000);
    };

    // 1. request: placed on the GPU the agent reported (its hello inventory, from nvidia-smi) and committed
    const created = await hub.call('POST', '/api/v1/workspaces', { tenant: 'acme', body: { tenant: 'acme', template: 'tiny', gpus: { count: 1 }, name: 'acme-e2e' } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ node: NODE, gpus: { uuids: [GPU] } });

    // 2. the agent follows the hub's sync-now: the container runs with the GPU's CDI device; its status makes the workspace Running
    await until('container running', async () => ((await managedContainers(pm, NODE)).lines.includes('fc-ws-acme-e2e-main running') ? true : undefined));
    await until('phase Running', async () => ((await phase('acme-e2e')) === 'Running' ? true : undefined));

    // 3. usage: the agent's telemetry tick observes the workspace holding its GPU; its records pass the admission gate and are billed
    await until('a few seconds billed', async () => ((await billedSeconds()) >= 3 ? true : undefined));
    const lines = await billed();
    expect(new Set(lines.map((l) => l.workspace))).toEqual(new Set(['acme-e2e']));
    const records = (await hub.store.usageRecords(NODE)).map((r) => r.payload as Record<string, unknown>);
    expect(records.every((r) => r.kind === 'gpu-allocation' && r.workspace === 'acme-e2e' && r.tenant === 'acme' && r.gpuUuid === GPU && r.gpuModel === MODEL)).toBe(true);
    expect((await hub.call('GET', '/api/v1/usage/refused')).json.refused).toEqual([]);

    // 4. delete: the file leaves Git, the agent prunes the container, the workspace is Deleted, billing stops
    expect((await hub.call('DELETE', '/api/v1/workspaces/acme-e2e', { tenant: 'acme' })).status).toBe(200);
    await until('container pruned', async () => ((await managedContainers(pm, NODE)).lines.length === 0 ? true : undefined));
    await until('phase Deleted', async () => ((await phase('acme-e2e')) === 'Deleted' ? true : undefined));
    await new Promise((r) => setTimeout(r, 1500)); // the slot in which the container went away is emitted
    await drained();
    const final = await billedSeconds();
    expect(final).toBe(await storedSeconds());
    await new Promise((r) => setTimeout(r, 3000)); // three more slots: nothing runs, nothing is billed
    await drained();
    expect(await billedSeconds()).toBe(final);
    expect((await hub.call('GET', '/api/v1/usage/refused')).json.refused).toEqual([]);
  }, 300_000);
});

/**
 * GPU health end to end: two node agents started by their composition root (`startNodeAgent`, as
 * `foundry agent run`), each with the stand-in nvidia-smi (scripts/fake-nvidia-smi) replaying the real H100
 * capture with fault overrides, over the real link to a real hub with its hosted repo. gpu-01 reports an
 * uncorrected ECC error: placement goes to gpu-02, a second request is refused naming gpu-01's GPU, the hub
 * exports foundry_gpu_healthy 0; once gpu-01 is healthy again it is used; gpu-02's GPU falling off the bus
 * turns it unhealthy while its workspace stays where it is. Podman points at a socket that does not exist
 * (no container is needed to judge placement).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { describeIf } from '../support/requires.js';
import { resolveConfig } from '../../agent/config/load-config.js';
import { startNodeAgent, type NodeAgent } from '../../agent/node-agent.js';
import { fleetFiles, gpuUuid } from '../workspaces/git-fixture.js';
import { startWsHub, type WsHub } from '../workspaces/hub-fixture.js';

const MODEL = 'NVIDIA H100 80GB HBM3';
const NODES = ['gpu-01', 'gpu-02'] as const;
const ECC = 'ecc.errors.uncorrected.volatile.total=2';
const built = existsSync(join(PACKAGE_ROOT, 'dist', 'hub', 'git', 'pre-receive-hook.js'));

let hub: WsHub;
let dir: string;
const agents: NodeAgent[] = [];
/** Writes a node's stand-in scenario: the idle H100 capture under the node's GPU UUID, plus `faults`. */
const scenario = (node: string, name = 'h100-idle', ...faults: string[]): void =>
  writeFileSync(join(dir, `${node}.scenario`), [name, `uuid=${gpuUuid(node, 0)}`, ...faults].join('\n'));

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The health the dashboard shows for a node's GPU (the same telemetry_latest the scheduler reads). */
async function shownHealth(node: string): Promise<{ state: string; problems: string[] } | undefined> {
  const nodes = (await hub.call('GET', '/api/v1/fleet/nodes')).json.nodes as Array<{ name: string; gpus: Array<{ uuid: string; health: { state: string; problems: string[] } }> }>;
  return nodes.find((n) => n.name === node)?.gpus.find((g) => g.uuid === gpuUuid(node, 0))?.health;
}
const healthIs = (node: string, state: string, problems: string[]) => async (): Promise<true | undefined> => {
  const h = await shownHealth(node);
  return h?.state === state && h.problems.join() === problems.join() ? true : undefined;
};
const create = (name: string) => hub.call('POST', '/api/v1/workspaces', { tenant: 'acme', body: { tenant: 'acme', template: 'tiny', gpus: { count: 1 }, name } });

describeIf(built, 'a build', 'run npm run build first (the hosted repo\'s hook runs from dist/)')('GPU health steers placement (real hub, two node agents, stand-in nvidia-smi with faults)', () => {
  beforeAll(async () => {
    const files = fleetFiles({ nodes: 0 });
    files['profiles/e2e-gpu.yaml'] = 'apiVersion: foundry.cloud/v1\nkind: NodeProfile\nmetadata:\n  name: e2e-gpu\nspec:\n  description: gpu node without the exporter\n  hostsWorkspaces: true\n';
    for (const n of NODES) files[`nodes/${n}.yaml`] = `apiVersion: foundry.cloud/v1\nkind: Node\nmetadata:\n  name: ${n}\nspec:\n  profile: e2e-gpu\n  gpus:\n    - uuid: ${gpuUuid(n, 0)}\n      model: ${MODEL}\n`;
    hub = await startWsHub(files, [], { telemetryFlushMs: 100 });
    dir = mkdtempSync(join(tmpdir(), 'foundry-gpu-health-'));
    scenario('gpu-01', 'h100-idle', ECC);
    scenario('gpu-02');
    for (const n of NODES) {
      // one stand-in per node: its own scenario file (both agents share this process's environment)
      const smi = join(dir, `${n}-nvidia-smi`);
      writeFileSync(smi, `#!/bin/sh\nFAKE_NVIDIA_SMI_SCENARIO_FILE='${join(dir, `${n}.scenario`)}' exec '${join(PACKAGE_ROOT, 'scripts', 'fake-nvidia-smi')}' "$@"\n`);
      chmodSync(smi, 0o755);
      const credentialFile = join(dir, `${n}.credential`);
      writeFileSync(credentialFile, `${(await hub.store.issueNodeCredential(n))}\n`, { mode: 0o600 });
      const config = resolveConfig({
        node: n, repo: { url: `${hub.url}/git/infra.git`, branch: 'main' }, cacheDir: join(dir, n, 'cache'), stateDir: join(dir, n, 'state'),
        podman: { socketPath: join(dir, 'no-podman.sock') }, hub: { url: hub.url, credentialFile },
      }, join(dir, `${n}.yaml`));
      agents.push(await startNodeAgent(config, pino({ level: 'silent' }), { nvidiaSmi: smi, telemetryIntervalMs: 200 }));
    }
    await until('both agents connected', async () => (NODES.every((n) => hub.app.hub.gateway.connectedNodes().includes(n)) ? true : undefined));
  }, 120_000);
  afterAll(async () => {
    for (const a of agents) await a.stop();
    await hub?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('skips the GPU with an uncorrected ECC error, names it when refusing, exports it, and uses it again once healthy', async () => {
    await until('gpu-01 unhealthy on the dashboard', healthIs('gpu-01', 'unhealthy', ['ecc_uncorrected']));
    await until('gpu-02 healthy on the dashboard', healthIs('gpu-02', 'healthy', []));

    // bin-pack would take gpu-01 (ties go to the first name): its GPU is unhealthy, so gpu-02
    const first = await create('acme-one');
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ node: 'gpu-02', gpus: { uuids: [gpuUuid('gpu-02', 0)] } });

    const refused = await create('acme-two');
    expect(refused.status).toBe(409);
    expect(refused.json.code).toBe('PLACEMENT_NONE');
    expect(refused.json.reasons).toEqual([{ reason: `node gpu-01: ${gpuUuid('gpu-01', 0)} unhealthy (ecc_uncorrected)`, nodes: 1 }, { reason: 'not enough free GPUs (need 1)', nodes: 1 }]);
    expect(refused.json.message).toBe(`no placement for acme-two: node gpu-01: ${gpuUuid('gpu-01', 0)} unhealthy (ecc_uncorrected); 1 node: not enough free GPUs (need 1)`);

    const metrics = (await hub.call('GET', '/metrics')).text.split('\n');
    expect(metrics).toContain(`foundry_gpu_healthy{node="gpu-01",gpu_uuid="${gpuUuid('gpu-01', 0)}",model="${MODEL}",workspace="",tenant=""} 0`);
    expect(metrics).toContain(`foundry_gpu_health_problem{node="gpu-01",gpu_uuid="${gpuUuid('gpu-01', 0)}",problem="ecc_uncorrected"} 1`);
    expect(metrics.filter((l) => l.startsWith('foundry_gpu_healthy{node="gpu-02"'))).toEqual([expect.stringMatching(/ 1$/)]);
    expect(metrics.filter((l) => l.startsWith('foundry_gpu_health_problem{node="gpu-02"'))).toEqual([]);

    // the operator resets the GPU: the next telemetry says healthy, and it is offered again
    scenario('gpu-01');
    await until('gpu-01 healthy again', healthIs('gpu-01', 'healthy', []));
    const again = await create('acme-three');
    expect(again.status).toBe(201);
    expect(again.json).toMatchObject({ node: 'gpu-01', gpus: { uuids: [gpuUuid('gpu-01', 0)] } });
  }, 120_000);

  it('marks a GPU that fell off the bus unhealthy and leaves the workspace on it where it is', async () => {
    scenario('gpu-02', 'gpu-lost');
    await until('gpu-02 fallen off the bus', healthIs('gpu-02', 'unhealthy', ['fallen_off_bus']));
    const metrics = (await hub.call('GET', '/metrics')).text.split('\n');
    expect(metrics).toContain(`foundry_gpu_health_problem{node="gpu-02",gpu_uuid="${gpuUuid('gpu-02', 0)}",problem="fallen_off_bus"} 1`);
    const ws = (await hub.call('GET', '/api/v1/workspaces/acme-one')).json as { node: string; gpus: { uuids: string[] } };
    expect([ws.node, ws.gpus.uuids]).toEqual(['gpu-02', [gpuUuid('gpu-02', 0)]]);
    const overview = (await hub.call('GET', '/api/v1/overview')).json as { alerts: Array<{ kind: string; node: string; message: string }> };
    expect(overview.alerts.filter((a) => a.kind === 'gpu-unhealthy')).toEqual([{ severity: 'critical', kind: 'gpu-unhealthy', node: 'gpu-02', message: `gpu-02 ${gpuUuid('gpu-02', 0)}: unhealthy (fallen_off_bus); not offered to new workspaces, acme-one still runs on it` }]);
  }, 60_000);
});

/**
 * Issue 6 point 8 and issue 10 through the real link: agents' telemetry loops (stubbed GPU poll, real
 * host sample with a stand-in `ceph` CLI on PATH replaying real ceph 16 output from fixtures/ceph/) send over the WebSocket to an in-process hub, which
 * exports per-GPU gauges at /metrics and Ceph storage capacity on the overview API.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { HubLink } from '../../agent/link/hub-link.js';
import { TelemetryLoop } from '../../agent/telemetry-loop.js';
import { collectHostMetrics, type HostMetrics } from '../../agent/host/host-metrics.js';
import { storageConfigFor } from '../../agent/host/storage-config.js';
import { loadInfraDir } from '../../common/infra/load.js';
import { createJoinToken, reserveEnrollment } from '../../hub/enroll/join-tokens.js';
import type { GpuSample, GpuStats } from '../../agent/gpu/types.js';
import type { WorkspaceAllocation } from '../../agent/usage/usage-types.js';
import { startTestHub, tempDir, waitFor, type TestHub } from './support.js';

const H100 = 'NVIDIA H100 80GB HBM3';
const host: HostMetrics = { at: 0, cpu: { cores: 2, loadPct: 1, load1: 0, load5: 0, load15: 0 }, memory: { totalBytes: 10, usedBytes: 5, availableBytes: 5 }, filesystems: [], network: [], uptimeSec: 1 };
const reading = (uuid: string, util: number | null, extra: Partial<GpuSample> = {}): GpuSample => ({
  uuid, index: 0, model: H100, pciBusId: null, utilizationGpuPct: util, utilizationMemoryPct: null, memoryUsedMiB: 2048, memoryTotalMiB: 81559,
  powerDrawW: 312.25, powerLimitW: 700, temperatureC: 41, smClockMHz: null, memClockMHz: null, ...extra,
});

// Real `ceph df --format json` of ceph 16.2.15 (fixtures/ceph/SOURCES.md), replayed by a `ceph` on PATH.
const CEPH_DF = join(PACKAGE_ROOT, 'fixtures', 'ceph', 'df-pacific-16.2.15.json');

let hub: TestHub;
let admin: string;
let scrapeToken: string | undefined;
const dirs: string[] = [];
const links: HubLink[] = [];
const savedPath = process.env.PATH;

function link(node: string, credential: string): HubLink {
  const stateDir = tempDir('foundry-link-');
  dirs.push(stateDir);
  const l = new HubLink({ hubUrl: hub.url, node, credential, stateDir, agentVersion: '9.9.9', hello: () => ({ appliedRevision: null, inventory: { gpus: [], resources: [] } }) }).start();
  links.push(l);
  return l;
}

async function gpuSeries(): Promise<string[]> {
  return (await scrape()).split('\n').filter((l) => l.startsWith('foundry_gpu_'));
}

/** /metrics as Prometheus gets it, with an admin token (the GPU series name tenants). */
async function scrape(): Promise<string> {
  scrapeToken ??= (await hub.store.createAdminToken('prometheus'));
  return (await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${scrapeToken}` } })).text();
}

beforeAll(async () => {
  hub = await startTestHub({ telemetryFlushMs: 50, dashboard: { pollMs: 0 } });
  admin = (await hub.store.createAdminToken('t'));
});
afterAll(async () => {
  await Promise.all(links.map((l) => l.close()));
  await hub.close();
  process.env.PATH = savedPath;
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

describe('per-GPU Prometheus metrics from telemetry', () => {
  it('exports each GPU with node, uuid, model, workspace and tenant; follows the workspace; forgets the node on disconnect', async () => {
    const l = link('gpu-01', (await hub.store.issueNodeCredential('gpu-01')));
    // both ends: the hub registers the node at the upgrade, the link's socket opens a moment later
    await waitFor(() => l.connected && hub.app.hub.gateway.connectedNodes().includes('gpu-01'), 5000, 'connection');
    let stats: GpuStats = { at: 1_000, available: true, processes: [], gpus: [reading('GPU-a', 87.5), reading('GPU-b', null, { powerDrawW: null, temperatureC: null })] };
    let allocations: WorkspaceAllocation[] = [{ workspace: 'acme-alice', tenant: 'acme', gpus: [{ uuid: 'GPU-a', model: H100 }], running: true }];
    const loop = new TelemetryLoop({ node: 'gpu-01', gpu: { stats: async () => stats }, host: async () => host, send: (b) => { if (!l.sendTelemetry(b)) throw new Error('not connected'); }, allocations: () => allocations });
    expect((await loop.tickOnce()).sent).toBe(true);
    const a = `{node="gpu-01",gpu_uuid="GPU-a",model="${H100}",workspace="acme-alice",tenant="acme"}`;
    const b = `{node="gpu-01",gpu_uuid="GPU-b",model="${H100}",workspace="",tenant=""}`;
    const first = [
      `foundry_gpu_utilization_percent${a} 87.5`,
      `foundry_gpu_memory_used_bytes${a} 2147483648`,
      `foundry_gpu_memory_used_bytes${b} 2147483648`,
      `foundry_gpu_memory_total_bytes${a} 85520809984`,
      `foundry_gpu_memory_total_bytes${b} 85520809984`,
      `foundry_gpu_power_watts${a} 312.25`,
      `foundry_gpu_temperature_celsius${a} 41`,
    ];
    await waitFor(async () => (await gpuSeries()).length === first.length, 5000, 'gpu series');
    expect(await gpuSeries()).toEqual(first);
    const text = await scrape();
    expect(text).toContain('# TYPE foundry_gpu_utilization_percent gauge');
    expect(text).toContain('# HELP foundry_gpu_memory_used_bytes GPU memory used in bytes');

    // alice's workspace leaves GPU-a, bob's arrives on GPU-b: no series of alice remains.
    allocations = [{ workspace: 'acme-bob', tenant: 'acme', gpus: [{ uuid: 'GPU-b', model: H100 }], running: true }];
    stats = { ...stats, at: 2_000, gpus: [reading('GPU-a', 0, { memoryUsedMiB: 0 }), reading('GPU-b', 12, { powerDrawW: null, temperatureC: null })] };
    expect((await loop.tickOnce()).sent).toBe(true);
    const a2 = `{node="gpu-01",gpu_uuid="GPU-a",model="${H100}",workspace="",tenant=""}`;
    const b2 = `{node="gpu-01",gpu_uuid="GPU-b",model="${H100}",workspace="acme-bob",tenant="acme"}`;
    await waitFor(async () => (await gpuSeries()).some((x) => x.includes('acme-bob')), 5000, 'relabelled series');
    expect(await gpuSeries()).toEqual([
      `foundry_gpu_utilization_percent${a2} 0`,
      `foundry_gpu_utilization_percent${b2} 12`,
      `foundry_gpu_memory_used_bytes${a2} 0`,
      `foundry_gpu_memory_used_bytes${b2} 2147483648`,
      `foundry_gpu_memory_total_bytes${a2} 85520809984`,
      `foundry_gpu_memory_total_bytes${b2} 85520809984`,
      `foundry_gpu_power_watts${a2} 312.25`,
      `foundry_gpu_temperature_celsius${a2} 41`,
    ]);

    await l.close();
    await waitFor(() => !hub.app.hub.gateway.connectedNodes().includes('gpu-01'), 5000, 'disconnect');
    expect(await gpuSeries()).toEqual([]);
  });
});

describe('Ceph storage capacity on the overview', () => {
  it('a ceph-node agent reports ceph df through the link and the overview shows the cluster totals', async () => {
    // Enrolled with a ceph-node join token, as `foundry hub token create --profile ceph-node` makes.
    const token = await createJoinToken(hub.store.joinTokens, { ttlMs: 3600_000, uses: 1, profile: 'ceph-node', labels: {}, createdBy: 'test' }, new Date());
    const { credential } = await reserveEnrollment(hub.store.joinTokens, { secret: token.secret, node: 'ceph-01', hostname: 'ceph-01', inventory: { gpus: [] } }, new Date());
    // The node's profile in its last good desired state says reportsStorage (built-in ceph-node profile).
    const repoDir = tempDir('foundry-infra-');
    dirs.push(repoDir);
    mkdirSync(join(repoDir, 'nodes'));
    writeFileSync(join(repoDir, 'nodes', 'ceph-01.yaml'), 'apiVersion: foundry.cloud/v1\nkind: Node\nmetadata:\n  name: ceph-01\nspec:\n  profile: ceph-node\n');
    const repo = await loadInfraDir(repoDir);
    // A stand-in ceph CLI on PATH that answers `ceph df --format json` only.
    const bin = tempDir('foundry-ceph-bin-');
    dirs.push(bin);
    writeFileSync(join(bin, 'ceph'), `#!/bin/sh\n[ "$*" = "df --format json" ] || { echo "unexpected: $*" >&2; exit 2; }\nexec cat "${CEPH_DF}"\n`);
    chmodSync(join(bin, 'ceph'), 0o755);
    process.env.PATH = `${bin}:${savedPath ?? ''}`;

    const l = link('ceph-01', credential);
    await waitFor(() => l.connected && hub.app.hub.gateway.connectedNodes().includes('ceph-01'), 5000, 'connection');
    const loop = new TelemetryLoop({
      node: 'ceph-01',
      gpu: { stats: async () => ({ at: Date.now(), available: false, reason: 'nvidia-smi not found', gpus: [], processes: [] }) },
      host: () => collectHostMetrics({ storage: storageConfigFor(repo, 'ceph-01') }),
      send: (body) => { if (!l.sendTelemetry(body)) throw new Error('not connected'); },
    });
    expect((await loop.tickOnce()).sent).toBe(true);
    const get = async (path: string) => (await fetch(`${hub.url}${path}`, { headers: { authorization: `Bearer ${admin}` } })).json() as Promise<Record<string, unknown>>;
    const overview = await waitFor(async () => { const o = await get('/api/v1/overview'); return (o.storage as { reported: boolean }).reported ? o : undefined; }, 5000, 'storage on the overview');
    expect(overview.storage).toEqual({
      cephNodes: 1, reported: true, source: 'ceph',
      totalBytes: 4_294_967_296, usedBytes: 325_304_320, availableBytes: 3_969_662_976,
      pools: [{ name: 'device_health_metrics', storedBytes: 0, maxAvailableBytes: 3_754_914_560 }, { name: 'rbd', storedBytes: 20_971_520, maxAvailableBytes: 3_754_914_560 }],
      nodes: ['ceph-01'], errors: [],
    });
    const { nodes } = (await get('/api/v1/fleet/nodes')) as { nodes: Array<{ name: string; profile: string; storage: Record<string, unknown> | null }> };
    expect(nodes.find((n) => n.name === 'ceph-01')).toMatchObject({ profile: 'ceph-node', storage: { source: 'ceph', totalBytes: 4_294_967_296, usedBytes: 325_304_320, availableBytes: 3_969_662_976 } });

    await l.close();
    await waitFor(async () => !((await get('/api/v1/overview')).storage as { reported: boolean }).reported, 5000, 'storage gone with the node');
  });
});

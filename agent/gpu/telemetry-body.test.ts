import { describe, expect, it } from 'vitest';
import { telemetryBody } from './telemetry-body.js';
import { parseStatsCsv } from './query-gpu.js';
import { capture } from '../../test/gpu/captures.js';
import { validatorFor } from '../../common/schema.js';
import type { HostMetrics } from '../host/host-metrics.js';

const host: HostMetrics = {
  at: 5, cpu: { cores: 2, loadPct: 3.5, load1: 0.2, load5: 0.1, load15: 0 }, memory: { totalBytes: 100, usedBytes: 40, availableBytes: 60 },
  filesystems: [], network: [], uptimeSec: 1,
};

describe('telemetryBody', () => {
  it('builds a body the protocol schema accepts, from a real MIG capture (null utilization)', () => {
    const gpus = parseStatsCsv(capture('h100-80gb-hbm3_mig-enabled_load_query-gpu-all-fields.csv'));
    const holders = new Map([['GPU-00000000-0000-0000-0000-000000000000', { workspace: 'acme-alice', tenant: 'acme' }]]);
    const body = telemetryBody('gpu-01', { at: 1_700_000_000_000, available: true, gpus, processes: [] }, host, holders);
    expect(body.gpus).toEqual([{ uuid: 'GPU-00000000-0000-0000-0000-000000000000', utilizationGpuPct: null, utilizationMemoryPct: null, memoryUsedMiB: 11125, memoryTotalMiB: 81559, powerDrawW: 433.78, temperatureC: 53, model: 'NVIDIA H100 80GB HBM3', workspace: 'acme-alice', tenant: 'acme', health: { state: 'healthy', problems: [] } }]);
    const validate = validatorFor('protocol/telemetry.schema.json');
    const ok = validate({ v: 1, type: 'telemetry', id: 'm1', ts: '2026-11-27T18:00:00Z', body });
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('sends zero GPUs and the host sample time when the node has no GPU', () => {
    expect(telemetryBody('svc-01', undefined, host)).toEqual({ node: 'svc-01', at: 5, gpus: [], host: { cpuPct: 3.5, memUsedBytes: 40, memTotalBytes: 100, load1: 0.2 } });
  });

  it('labels GPUs nobody holds with null workspace and tenant', () => {
    const gpus = parseStatsCsv(capture('h100-80gb-hbm3_mig-enabled_load_query-gpu-all-fields.csv'));
    const body = telemetryBody('gpu-01', { at: 1, available: true, gpus, processes: [] }, host);
    expect(body.gpus.map((g) => [g.model, g.workspace, g.tenant])).toEqual([['NVIDIA H100 80GB HBM3', null, null]]);
    const odd = telemetryBody('gpu-01', { at: 1, available: true, gpus, processes: [] }, host, new Map([[gpus[0]!.uuid, { workspace: 'w'.repeat(64), tenant: '' }]]));
    expect(odd.gpus.map((g) => [g.workspace, g.tenant])).toEqual([[null, null]]);
  });

  it('carries the storage capacity of a Ceph node (pools capped at 64), which the schema accepts', () => {
    const pools = Array.from({ length: 70 }, (_, i) => ({ name: `pool-${i}`, storedBytes: i, maxAvailableBytes: null }));
    const body = telemetryBody('ceph-01', undefined, { ...host, storage: { source: 'ceph', totalBytes: 3e12, usedBytes: 6e11, availableBytes: 2.4e12, pools } });
    expect(body.storage).toEqual({ source: 'ceph', totalBytes: 3e12, usedBytes: 6e11, availableBytes: 2.4e12, pools: pools.slice(0, 64) });
    const fallback = telemetryBody('ceph-01', undefined, { ...host, storage: { source: 'mounts', totalBytes: 0, usedBytes: 0, availableBytes: 0, error: 'ceph cli not found' } });
    expect(fallback.storage).toEqual({ source: 'mounts', totalBytes: 0, usedBytes: 0, availableBytes: 0, error: 'ceph cli not found' });
    const validate = validatorFor('protocol/telemetry.schema.json');
    for (const b of [body, fallback]) {
      validate({ v: 1, type: 'telemetry', id: 'm1', ts: '2026-11-27T18:00:00Z', body: b });
      expect(validate.errors ?? []).toEqual([]);
    }
  });

  it('carries each GPU\'s health, which the schema accepts; a sample without health (XML path) sends none', () => {
    const [g] = parseStatsCsv(capture('h100-80gb-hbm3_load_query-gpu-all-fields.csv'));
    const sick = { ...g!, health: { state: 'unhealthy' as const, problems: ['ecc_uncorrected' as const, 'thermal_throttle' as const] } };
    const { health: _none, ...bare } = { ...g!, uuid: 'GPU-2' };
    const body = telemetryBody('gpu-01', { at: 1, available: true, gpus: [sick, bare], processes: [] }, host);
    expect(body.gpus.map((x) => x.health)).toEqual([{ state: 'unhealthy', problems: ['ecc_uncorrected', 'thermal_throttle'] }, undefined]);
    expect('health' in body.gpus[1]!).toBe(false);
    const validate = validatorFor('protocol/telemetry.schema.json');
    validate({ v: 1, type: 'telemetry', id: 'm1', ts: '2026-11-27T18:00:00Z', body });
    expect(validate.errors ?? []).toEqual([]);
  });

  it('keeps frames of older agents (no model, workspace, tenant or storage) valid', () => {
    const validate = validatorFor('protocol/telemetry.schema.json');
    const old = { node: 'gpu-01', at: 1, gpus: [{ uuid: 'GPU-1', utilizationGpuPct: 5, memoryUsedMiB: 1, memoryTotalMiB: 2 }], host: { cpuPct: null, memUsedBytes: null, memTotalBytes: null } };
    expect(validate({ v: 1, type: 'telemetry', id: 'm1', ts: '2026-11-27T18:00:00Z', body: old })).toBe(true);
  });
});

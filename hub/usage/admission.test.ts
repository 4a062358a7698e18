import { describe, expect, it } from 'vitest';
import { admitUsage, DEFAULT_ADMISSION_LIMITS, type PlacementLookup, type PlacementSpan } from './admission.js';
import type { GpuAllocationRecord, ResourceAllocationRecord } from '../../common/protocol/codec.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 1); // the node enrolled
const NOW = T0 + 48 * H;
const node = { name: 'gpu-01', enrolledAt: T0, gpuModels: new Map([['GPU-a', 'NVIDIA H100 80GB HBM3'], ['GPU-b', 'NVIDIA H100 80GB HBM3']]) };
const limits = { milliVcpus: 2000, memoryBytes: 4 * 2 ** 30, storageBytes: 20 * 2 ** 30 };

function span(over: Partial<PlacementSpan> = {}): PlacementSpan {
  return { workspace: 'alice', tenant: 'acme', node: 'gpu-01', gpuUuids: ['GPU-a'], running: true, limits, from: T0 + H, to: null, ...over };
}
const lookup = (spans: Record<string, PlacementSpan[]>): PlacementLookup => ({ spans: (w) => spans[w] ?? [] });
const placed = lookup({ alice: [span()] });

function gpu(from: number, to: number, over: Partial<GpuAllocationRecord> = {}): GpuAllocationRecord {
  return {
    kind: 'gpu-allocation', version: 1, key: `gpu-01/alice/GPU-a/${from}`, node: 'gpu-01', workspace: 'alice', tenant: 'acme', gpuUuid: 'GPU-a', gpuModel: 'NVIDIA H100 80GB HBM3',
    from, to, fromIso: new Date(from).toISOString(), toIso: new Date(to).toISOString(), seconds: (to - from) / 1000, measuredAvgUtilizationPct: 50, measuredSamples: 3, ...over,
  };
}
function res(from: number, to: number, over: Partial<ResourceAllocationRecord> = {}): ResourceAllocationRecord {
  return {
    kind: 'resource-allocation', version: 1, key: `gpu-01/alice/resources/${from}`, node: 'gpu-01', workspace: 'alice', tenant: 'acme', milliVcpus: 2000, memoryBytes: 4 * 2 ** 30, storageBytes: 0,
    from, to, fromIso: new Date(from).toISOString(), toIso: new Date(to).toISOString(), seconds: (to - from) / 1000, ...over,
  };
}
const at = T0 + 2 * H;
const reason = (a: ReturnType<typeof admitUsage>): string => (a.ok ? 'admitted' : `${a.reason} ${a.field ?? ''}`.trim());

describe('admitUsage', () => {
  it('admits a record of a workspace placed on the node, within its template, after enrollment', () => {
    expect(admitUsage(gpu(at, at + 10_000), placed, node, NOW)).toEqual({ ok: true });
    expect(admitUsage(res(at, at + 10_000), placed, node, NOW)).toEqual({ ok: true });
    // a record that has waited in the outbox for days is still admitted
    expect(admitUsage(gpu(at, at + 10_000), placed, node, NOW + 30 * 24 * H)).toEqual({ ok: true });
  });

  it('refuses records of another node, or with an interval that is not one', () => {
    expect(reason(admitUsage(gpu(at, at + 10_000, { node: 'gpu-02' }), placed, node, NOW))).toBe('wrong-node /body/record/node');
    expect(reason(admitUsage(gpu(at, at), placed, node, NOW))).toBe('bad-interval /body/record/to');
    expect(reason(admitUsage(gpu(at + 10_000, at), placed, node, NOW))).toBe('bad-interval /body/record/to');
    expect(reason(admitUsage(gpu(at + 1, at + 10_001), placed, node, NOW))).toBe('bad-interval /body/record/from');
    expect(reason(admitUsage(gpu(at, at + 10_000, { seconds: 3600 }), placed, node, NOW))).toBe('bad-interval /body/record/seconds');
    expect(reason(admitUsage(gpu(at, at + 10_000, { fromIso: '2026-01-01T00:00:00.000Z' }), placed, node, NOW))).toBe('bad-interval /body/record/fromIso');
  });

  it('refuses time the node could not have measured: before enrollment, in the future, twenty years in one record', () => {
    expect(reason(admitUsage(gpu(T0 - 24 * H, T0 - 24 * H + 10_000), placed, node, NOW))).toBe('before-enrollment /body/record/from');
    expect(reason(admitUsage(gpu(NOW + 365 * 24 * H, NOW + 365 * 24 * H + 10_000), placed, node, NOW))).toBe('in-future /body/record/to');
    expect(reason(admitUsage(gpu(at, at + 20 * 365 * 24 * H), placed, node, NOW))).toBe('too-long /body/record/to');
    expect(reason(admitUsage(gpu(at, at + DEFAULT_ADMISSION_LIMITS.maxRecordMs + 1000), placed, node, NOW))).toBe('too-long /body/record/to');
    expect(admitUsage(gpu(at, at + DEFAULT_ADMISSION_LIMITS.maxRecordMs), placed, node, NOW)).toEqual({ ok: true });
    // within the clock-skew allowance: a node clock a minute ahead
    expect(admitUsage(gpu(NOW - 10_000, NOW + 60_000), placed, node, NOW)).toEqual({ ok: true });
    expect(reason(admitUsage(gpu(NOW, NOW + 180_000), placed, node, NOW))).toBe('in-future /body/record/to');
  });

  it('refuses a workspace that Git never had, one on another node, of another tenant, or stopped', () => {
    expect(reason(admitUsage(gpu(at, at + 10_000, { workspace: 'ghost' }), placed, node, NOW))).toBe('unknown-workspace /body/record/workspace');
    const elsewhere = lookup({ alice: [span({ node: 'gpu-02' })] });
    expect(reason(admitUsage(gpu(at, at + 10_000), elsewhere, node, NOW))).toBe('not-placed-on-node /body/record/workspace');
    const unplaced = lookup({ alice: [span({ node: undefined })] });
    expect(reason(admitUsage(gpu(at, at + 10_000), unplaced, node, NOW))).toBe('not-placed-on-node /body/record/workspace');
    expect(reason(admitUsage(gpu(at, at + 10_000, { tenant: 'globex' }), placed, node, NOW))).toBe('wrong-tenant /body/record/tenant');
    const stopped = lookup({ alice: [span({ running: false })] });
    expect(reason(admitUsage(gpu(at, at + 10_000), stopped, node, NOW))).toBe('workspace-stopped /body/record/workspace');
  });

  it('refuses a GPU not assigned to the workspace, or billed as another model than the node declares', () => {
    expect(reason(admitUsage(gpu(at, at + 10_000, { gpuUuid: 'GPU-b' }), placed, node, NOW))).toBe('gpu-not-assigned /body/record/gpuUuid');
    expect(reason(admitUsage(gpu(at, at + 10_000, { gpuModel: 'NVIDIA B200' }), placed, node, NOW))).toBe('gpu-model-mismatch /body/record/gpuModel');
    // a model the Node file does not declare is left to pricing (unpriced), not refused here
    expect(admitUsage(gpu(at, at + 10_000), placed, { name: 'gpu-01', enrolledAt: T0 }, NOW)).toEqual({ ok: true });
  });

  it('refuses quantities above what the template declares (petabytes of storage)', () => {
    expect(reason(admitUsage(res(at, at + 10_000, { storageBytes: 2 ** 50 }), placed, node, NOW))).toBe('exceeds-template /body/record/storageBytes');
    expect(reason(admitUsage(res(at, at + 10_000, { milliVcpus: 2001 }), placed, node, NOW))).toBe('exceeds-template /body/record/milliVcpus');
    expect(reason(admitUsage(res(at, at + 10_000, { memoryBytes: 4 * 2 ** 30 + 1 }), placed, node, NOW))).toBe('exceeds-template /body/record/memoryBytes');
    expect(admitUsage(res(at, at + 10_000, { milliVcpus: 500, memoryBytes: 1, storageBytes: 20 * 2 ** 30 }), placed, node, NOW)).toEqual({ ok: true });
  });

  it('admits only the time the placement held, with clock skew before it and the sync grace after it', () => {
    const { clockSkewMs, syncGraceMs } = DEFAULT_ADMISSION_LIMITS;
    const moved = lookup({ alice: [span({ from: T0 + H, to: T0 + 3 * H }), span({ node: 'gpu-02', from: T0 + 3 * H })] });
    expect(admitUsage(gpu(T0 + H - clockSkewMs, T0 + H), moved, node, NOW)).toEqual({ ok: true });
    expect(reason(admitUsage(gpu(T0 + H - clockSkewMs - 10_000, T0 + H), moved, node, NOW))).toBe('not-placed-on-node /body/record/workspace');
    expect(admitUsage(gpu(T0 + 3 * H, T0 + 3 * H + syncGraceMs), moved, node, NOW)).toEqual({ ok: true });
    expect(reason(admitUsage(gpu(T0 + 3 * H, T0 + 3 * H + syncGraceMs + 10_000), moved, node, NOW))).toBe('not-placed-on-node /body/record/workspace');
    expect(reason(admitUsage(gpu(T0 + 4 * H, T0 + 4 * H + 10_000), moved, node, NOW))).toBe('not-placed-on-node /body/record/workspace');
  });

  it('admits a record across two spans that together cover it (a resize in the middle), not one across a gap', () => {
    const resized = lookup({ alice: [span({ from: T0 + H, to: T0 + 2 * H }), span({ from: T0 + 2 * H, gpuUuids: ['GPU-a', 'GPU-b'] })] });
    expect(admitUsage(gpu(T0 + 2 * H - 30_000, T0 + 2 * H + 30_000), resized, node, NOW)).toEqual({ ok: true });
    const gap = lookup({ alice: [span({ from: T0 + H, to: T0 + 2 * H }), span({ node: 'gpu-02', from: T0 + 2 * H, to: T0 + 4 * H }), span({ from: T0 + 4 * H })] });
    expect(reason(admitUsage(gpu(T0 + 3 * H, T0 + 3 * H + 10_000), gap, node, NOW))).toBe('not-placed-on-node /body/record/workspace');
    expect(admitUsage(gpu(T0 + 4 * H, T0 + 4 * H + 10_000), gap, node, NOW)).toEqual({ ok: true });
  });
});

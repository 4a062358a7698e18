import { describe, it, expect } from 'vitest';
import { toIntervals } from './usage-intervals.js';

const rec = (over: Record<string, unknown>) => ({ workspace: 'w', tenant: 't', gpuUuid: 'GPU-1', gpuModel: 'H100', from: 1_000, to: 11_000, measuredAvgUtilizationPct: 40, ...over });

describe('toIntervals', () => {
  it('maps the wire record (from/to epoch ms) with the hub\'s receive time and measured utilization', () => {
    const r = toIntervals([{ node: 'n', seq: 1, payload: rec({}), receivedAt: '2026-01-01T00:00:00.000Z' }], () => undefined);
    expect(r).toEqual({ intervals: [{ workspace: 'w', tenant: 't', node: 'n', gpuUuid: 'GPU-1', gpuModel: 'H100', from: 1_000, to: 11_000, receivedAt: Date.parse('2026-01-01T00:00:00Z'), utilization: 40 }], resources: [], unpriced: [] });
  });

  it('takes the declared model when the agent did not know it, and reports records no model can price', () => {
    const rows = [
      { node: 'n', seq: 2, payload: rec({ gpuModel: null, measuredAvgUtilizationPct: null }), receivedAt: '2026-01-01T00:00:00Z' },
      { node: 'n', seq: 3, payload: rec({ gpuModel: null, gpuUuid: 'GPU-9' }), receivedAt: '2026-01-01T00:00:00Z' },
      { node: 'n', seq: 4, payload: rec({ from: undefined, to: undefined, fromMs: 5, toMs: 6 }), receivedAt: '2026-01-01T00:00:00Z' },
      { node: 'n', seq: 5, payload: { garbage: true }, receivedAt: '2026-01-01T00:00:00Z' },
    ];
    const r = toIntervals(rows, (u) => (u === 'GPU-1' ? 'A100' : undefined));
    expect(r.intervals.map((i) => [i.gpuModel, i.from, i.to, i.utilization])).toEqual([['A100', 1_000, 11_000, undefined], ['H100', 5, 6, 40]]);
    expect(r.unpriced).toEqual([{ node: 'n', seq: 3, workspace: 'w', gpuUuid: 'GPU-9' }]);
  });

  it('reads resource-allocation records into one interval per resource held, with the node the record came from', () => {
    const payload = { kind: 'resource-allocation', version: 1, node: 'spoofed', workspace: 'w', tenant: 't', milliVcpus: 2500, memoryBytes: 8 * 2 ** 30, storageBytes: 0, from: 1_000, to: 11_000 };
    const r = toIntervals([{ node: 'n', seq: 1, payload, receivedAt: '2026-01-01T00:00:00Z' }, { node: 'n', seq: 2, payload: { ...payload, to: 500 }, receivedAt: '2026-01-01T00:00:00Z' }], () => undefined);
    const at = Date.parse('2026-01-01T00:00:00Z');
    expect(r).toEqual({ intervals: [], unpriced: [], resources: [
      { workspace: 'w', tenant: 't', node: 'n', resource: 'vcpu', quantity: 2500, from: 1_000, to: 11_000, receivedAt: at },
      { workspace: 'w', tenant: 't', node: 'n', resource: 'memory', quantity: 8 * 2 ** 30, from: 1_000, to: 11_000, receivedAt: at },
    ] });
  });
});

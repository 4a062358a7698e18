import { describe, it, expect } from 'vitest';
import { toIntervals } from './usage-intervals.js';

const AT = '2026-01-01T00:00:00.000Z';
const F = Date.parse('2025-12-31T00:00:00Z');
const rec = (over: Record<string, unknown>) => ({ workspace: 'w', tenant: 't', gpuUuid: 'GPU-1', gpuModel: 'H100', from: F, to: F + 10_000, measuredAvgUtilizationPct: 40, ...over });

describe('toIntervals', () => {
  it('maps the wire record (from/to epoch ms) with the hub\'s receive time, measured utilization and late assignment', () => {
    const r = toIntervals([{ node: 'n', seq: 1, payload: rec({}), receivedAt: AT, lateTo: { '2025-12': '2026-01' } }], () => undefined);
    expect(r).toEqual({ intervals: [{ workspace: 'w', tenant: 't', node: 'n', gpuUuid: 'GPU-1', gpuModel: 'H100', from: F, to: F + 10_000, receivedAt: Date.parse(AT), utilization: 40, lateTo: { '2025-12': '2026-01' } }], resources: [], excluded: [] });
  });

  it('takes the declared model when the agent did not know it; unknown everywhere: model "" (rated unpriced)', () => {
    const rows = [
      { node: 'n', seq: 2, payload: rec({ gpuModel: null, measuredAvgUtilizationPct: null }), receivedAt: AT },
      { node: 'n', seq: 3, payload: rec({ gpuModel: null, gpuUuid: 'GPU-9', measuredAvgUtilizationPct: 140 }), receivedAt: AT },
      { node: 'n', seq: 4, payload: rec({ from: undefined, to: undefined, fromMs: F + 5, toMs: F + 6 }), receivedAt: AT },
    ];
    const r = toIntervals(rows, (u) => (u === 'GPU-1' ? 'A100' : undefined));
    expect(r.intervals.map((i) => [i.gpuModel, i.from - F, i.to - F, i.utilization])).toEqual([['A100', 0, 10_000, undefined], ['', 0, 10_000, undefined], ['H100', 5, 6, 40]]);
    expect(r.excluded).toEqual([]);
  });

  it('excludes, with the reason, every record that cannot be rated instead of skipping it without a word', () => {
    const bad: Array<[unknown, string]> = [
      [{ garbage: true }, 'workspace is missing or not a name'],
      ['not json', 'payload is not an object'],
      [rec({ tenant: 7 }), 'tenant is missing or not a name'],
      [rec({ from: '2026-01-01' }), 'from and to must be whole epoch milliseconds'],
      [rec({ from: F + 0.5 }), 'from and to must be whole epoch milliseconds'],
      [rec({ to: F - 1 }), `ends before it starts (${F} > ${F - 1})`],
      [rec({ from: 0, to: 10_000 }), 'starts at 1970-01-01T00:00:00.000Z, before 2020-01-01: the node\'s clock was not set'],
      [rec({ from: Date.parse('2005-12-31T00:00:00Z'), to: F }), 'spans 7305 days: one record may span at most 31 days'],
      [rec({ from: Date.parse('2027-01-01T00:00:00Z'), to: Date.parse('2027-01-01T00:00:10Z') }), 'ends at 2027-01-01T00:00:10.000Z, after it arrived (2026-01-01T00:00:00.000Z): time not yet measured'],
      [{ kind: 'resource-allocation', workspace: 'w', tenant: 't', from: F, to: F + 1000, storageBytes: 5 * 2 ** 50 }, `storageBytes ${5 * 2 ** 50} is not a whole number in 0..${2 ** 50}`],
      [{ kind: 'resource-allocation', workspace: 'w', tenant: 't', from: F, to: F + 1000, milliVcpus: -1 }, 'milliVcpus -1 is not a whole number in 0..1024000'],
      [rec({ gpuUuid: '' }), 'gpuUuid is missing or not a name'],
    ];
    const r = toIntervals(bad.map(([payload], i) => ({ node: 'n', seq: i, payload, receivedAt: AT })), () => undefined);
    expect(r.intervals).toEqual([]);
    expect(r.resources).toEqual([]);
    expect(r.excluded).toEqual(bad.map(([, reason], i) => ({ node: 'n', seq: i, reason })));
  });

  it('reads resource-allocation records into one interval per resource held, with the node the record came from', () => {
    const payload = { kind: 'resource-allocation', version: 1, node: 'spoofed', workspace: 'w', tenant: 't', milliVcpus: 2500, memoryBytes: 8 * 2 ** 30, storageBytes: 0, from: F, to: F + 10_000 };
    const r = toIntervals([{ node: 'n', seq: 1, payload, receivedAt: AT }, { node: 'n', seq: 2, payload: { ...payload, to: F - 500 }, receivedAt: AT }], () => undefined);
    const at = Date.parse(AT);
    expect(r).toEqual({ intervals: [], excluded: [{ node: 'n', seq: 2, reason: `ends before it starts (${F} > ${F - 500})` }], resources: [
      { workspace: 'w', tenant: 't', node: 'n', resource: 'vcpu', quantity: 2500, from: F, to: F + 10_000, receivedAt: at },
      { workspace: 'w', tenant: 't', node: 'n', resource: 'memory', quantity: 8 * 2 ** 30, from: F, to: F + 10_000, receivedAt: at },
    ] });
  });
});

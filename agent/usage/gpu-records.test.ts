import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { usageRecords } from './gpu-records.js';
import { validatorFor } from '../../common/schema.js';
import type { AllocationObservation, WorkspaceAllocation } from './usage-types.js';

const H100 = { uuid: 'GPU-a', model: 'NVIDIA H100 80GB HBM3' };
const T4 = { uuid: 'GPU-b', model: 'Tesla T4' };
const alice = (running = true, gpus = [H100], tenant = 'acme'): WorkspaceAllocation => ({ workspace: 'alice', tenant, gpus, running });
const every5s = (fromMs: number, toMs: number, ws: (at: number) => WorkspaceAllocation[]): AllocationObservation[] => {
  const out: AllocationObservation[] = [];
  for (let at = fromMs; at < toMs; at += 5_000) out.push({ at, workspaces: ws(at) });
  return out;
};
const base = { node: 'gpu-01', resolutionMs: 10_000 };

describe('usageRecords', () => {
  it('one running workspace: one record over the window with measured utilization beside it', () => {
    const samples = [{ at: 1_000, gpus: [{ uuid: 'GPU-a', utilizationGpuPct: 50 }] }, { at: 21_000, gpus: [{ uuid: 'GPU-a', utilizationGpuPct: 100 }, { uuid: 'GPU-b', utilizationGpuPct: 7 }] }];
    expect(usageRecords({ ...base, fromMs: 0, toMs: 30_000, observations: every5s(0, 30_000, () => [alice()]), samples })).toEqual([{
      kind: 'gpu-allocation', version: 1, key: 'gpu-01/alice/GPU-a/0', node: 'gpu-01', workspace: 'alice', tenant: 'acme', gpuUuid: 'GPU-a', gpuModel: 'NVIDIA H100 80GB HBM3',
      from: 0, to: 30_000, fromIso: '1970-01-01T00:00:00.000Z', toIso: '1970-01-01T00:00:30.000Z', seconds: 30, measuredAvgUtilizationPct: 75, measuredSamples: 2,
    }]);
  });

  it('a workspace that is not running, or has no container running, produces nothing', () => {
    expect(usageRecords({ ...base, fromMs: 0, toMs: 30_000, observations: every5s(0, 30_000, () => [alice(false)]), samples: [] })).toEqual([]);
    expect(usageRecords({ ...base, fromMs: 0, toMs: 30_000, observations: every5s(0, 30_000, () => [alice(true, [])]), samples: [] })).toEqual([]);
  });

  it('does not bill a slot nobody observed (agent down)', () => {
    const obs = every5s(0, 40_000, () => [alice()]).filter((o) => o.at < 10_000 || o.at >= 20_000);
    const r = usageRecords({ ...base, fromMs: 0, toMs: 40_000, observations: obs, samples: [] });
    expect(r.map((x) => [x.from, x.to, x.seconds, x.measuredAvgUtilizationPct, x.measuredSamples])).toEqual([[0, 10_000, 10, null, 0], [20_000, 40_000, 20, null, 0]]);
  });

  it('starts and stops in the customer favour: a slot counts only when every observation shows it running', () => {
    const obs = every5s(0, 50_000, (at) => [alice(at >= 5_000 && at < 35_000)]);
    expect(usageRecords({ ...base, fromMs: 0, toMs: 50_000, observations: obs, samples: [] }).map((x) => [x.from, x.to])).toEqual([[10_000, 30_000]]);
  });

  it('one record per GPU per workspace; a change of tenant or GPU set splits records', () => {
    const obs = every5s(0, 30_000, (at) => [alice(true, at < 10_000 ? [H100, T4] : [H100], at < 20_000 ? 'acme' : 'other'), { workspace: 'bob', tenant: 'beta', gpus: [T4], running: at >= 10_000 }]);
    expect(usageRecords({ ...base, fromMs: 0, toMs: 30_000, observations: obs, samples: [] }).map((x) => [x.workspace, x.tenant, x.gpuUuid, x.from, x.to])).toEqual([
      ['alice', 'acme', 'GPU-a', 0, 20_000],
      ['alice', 'acme', 'GPU-b', 0, 10_000],
      ['bob', 'beta', 'GPU-b', 10_000, 30_000],
      ['alice', 'other', 'GPU-a', 20_000, 30_000],
    ]);
  });

  it('cuts the window down to whole slots', () => {
    expect(usageRecords({ ...base, fromMs: 0, toMs: 25_000, observations: every5s(0, 25_000, () => [alice()]), samples: [] }).map((x) => x.to)).toEqual([20_000]);
  });

  it('property: records of one pair never overlap, are slot-aligned, and bill exactly the fully-running observed slots', () => {
    fc.assert(fc.property(fc.array(fc.record({ slot: fc.integer({ min: 0, max: 19 }), offset: fc.integer({ min: 0, max: 9_999 }), running: fc.boolean() }), { maxLength: 60 }), (raw) => {
      const observations = raw.map((r) => ({ at: r.slot * 10_000 + r.offset, workspaces: [alice(r.running)] }));
      const recs = usageRecords({ ...base, fromMs: 0, toMs: 200_000, observations, samples: [] });
      const billedSlots = new Set<number>();
      for (const r of recs) {
        expect(r.from % 10_000).toBe(0);
        expect(r.seconds).toBe((r.to - r.from) / 1000);
        for (let s = r.from; s < r.to; s += 10_000) { expect(billedSlots.has(s)).toBe(false); billedSlots.add(s); }
      }
      const expected = new Set<number>();
      for (let slot = 0; slot < 20; slot++) {
        const inSlot = raw.filter((r) => r.slot === slot);
        if (inSlot.length > 0 && inSlot.every((r) => r.running)) expected.add(slot * 10_000);
      }
      expect([...billedSlots].sort((a, b) => a - b)).toEqual([...expected].sort((a, b) => a - b));
    }));
  });

  it('fits the protocol usage message (schemas/protocol/usage.schema.json)', () => {
    const [record] = usageRecords({ ...base, fromMs: 0, toMs: 10_000, observations: every5s(0, 10_000, () => [alice()]), samples: [] });
    const validate = validatorFor('protocol/usage.schema.json');
    validate({ v: 1, type: 'usage', id: 'u1', seq: 1, ts: '2026-11-27T18:00:00Z', body: { node: 'gpu-01', record } });
    expect(validate.errors ?? []).toEqual([]);
  });
});

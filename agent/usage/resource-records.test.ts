import { describe, expect, it } from 'vitest';
import { validatorFor } from '../../common/schema.js';
import { resourceRecords } from './resource-records.js';
import type { AllocationObservation, HeldResources, WorkspaceAllocation } from './usage-types.js';

const held = (milliVcpus: number, memoryBytes = 0, storageBytes = 0): HeldResources => ({ milliVcpus, memoryBytes, storageBytes });
const ws = (resources: HeldResources | undefined, running = true, tenant = 'acme'): WorkspaceAllocation => ({ workspace: 'bob', tenant, gpus: [], running, ...(resources === undefined ? {} : { resources }) });
const every5s = (toMs: number, f: (at: number) => WorkspaceAllocation[]): AllocationObservation[] => {
  const out: AllocationObservation[] = [];
  for (let at = 0; at < toMs; at += 5_000) out.push({ at, workspaces: f(at) });
  return out;
};
const base = { node: 'gpu-01', resolutionMs: 10_000, fromMs: 0, samples: [] };

describe('resourceRecords', () => {
  it('one record per run of slots with the same quantities; a resize starts a new record', () => {
    const obs = every5s(40_000, (at) => [ws(held(at < 20_000 ? 2000 : 4000, 8 * 2 ** 30))]);
    expect(resourceRecords({ ...base, toMs: 40_000, observations: obs }).map((r) => [r.key, r.from, r.to, r.seconds, r.milliVcpus, r.memoryBytes, r.storageBytes])).toEqual([
      ['gpu-01/bob/resources/0', 0, 20_000, 20, 2000, 8 * 2 ** 30, 0],
      ['gpu-01/bob/resources/20000', 20_000, 40_000, 20, 4000, 8 * 2 ** 30, 0],
    ]);
  });

  it('a slot with a stop, a start or a resize in it bills the least seen, and only when running throughout', () => {
    const obs = every5s(50_000, (at) => [ws(held(at === 15_000 ? 1000 : 2000), at !== 35_000)]);
    expect(resourceRecords({ ...base, toMs: 50_000, observations: obs }).map((r) => [r.from, r.to, r.milliVcpus])).toEqual([
      [0, 10_000, 2000], [10_000, 20_000, 1000], [20_000, 30_000, 2000], [40_000, 50_000, 2000],
    ]);
  });

  it('nothing for a stopped workspace, one without declared resources, or a slot nobody observed', () => {
    expect(resourceRecords({ ...base, toMs: 30_000, observations: every5s(30_000, () => [ws(held(2000), false)]) })).toEqual([]);
    expect(resourceRecords({ ...base, toMs: 30_000, observations: every5s(30_000, () => [ws(undefined)]) })).toEqual([]);
    const gap = every5s(30_000, () => [ws(held(2000))]).filter((o) => o.at < 10_000 || o.at >= 20_000);
    expect(resourceRecords({ ...base, toMs: 30_000, observations: gap }).map((r) => [r.from, r.to])).toEqual([[0, 10_000], [20_000, 30_000]]);
  });

  it('fits the protocol usage message (schemas/protocol/usage.schema.json)', () => {
    const [record] = resourceRecords({ ...base, toMs: 10_000, observations: every5s(10_000, () => [ws(held(500, 2 ** 30, 40 * 2 ** 30))]) });
    const validate = validatorFor('protocol/usage.schema.json');
    validate({ v: 1, type: 'usage', id: 'u1', seq: 1, ts: '2026-11-27T18:00:00Z', body: { node: 'gpu-01', record } });
    expect(validate.errors ?? []).toEqual([]);
  });
});

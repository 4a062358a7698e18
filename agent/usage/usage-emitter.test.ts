import { describe, expect, it } from 'vitest';
import { UsageEmitter } from './usage-emitter.js';
import type { UsageRecord, WorkspaceAllocation } from './usage-types.js';

const running: WorkspaceAllocation[] = [{ workspace: 'alice', tenant: 'acme', gpus: [{ uuid: 'GPU-a', model: 'Tesla T4' }], running: true }];

describe('UsageEmitter', () => {
  it('emits one record per completed slot, starting with the first whole slot observed', async () => {
    let now = 3_000;
    const sunk: UsageRecord[] = [];
    const e = new UsageEmitter({ node: 'gpu-01', clock: () => now, sink: (r) => { sunk.push(r as UsageRecord); } });
    for (; now < 46_000; now += 5_000) {
      e.observe(running);
      e.sample({ at: now, gpus: [{ uuid: 'GPU-a', utilizationGpuPct: 40 }] });
      await e.tick();
    }
    // Observed from 3 s: slot [0,10) is partial and not billed; [10,20), [20,30), [30,40) are.
    expect(sunk.map((r) => [r.from, r.to, r.seconds, r.measuredAvgUtilizationPct, r.measuredSamples])).toEqual([
      [10_000, 20_000, 10, 40, 2], [20_000, 30_000, 10, 40, 2], [30_000, 40_000, 10, 40, 2],
    ]);
  });

  it('keeps records the sink refuses and delivers them in order on the next tick', async () => {
    let now = 0;
    let fail = true;
    const sunk: number[] = [];
    const errors: string[] = [];
    const e = new UsageEmitter({
      node: 'gpu-01', clock: () => now,
      sink: async (r) => { if (fail) throw new Error('outbox full'); sunk.push(r.from); },
      onSinkError: (err) => errors.push((err as Error).message),
    });
    for (; now <= 20_000; now += 5_000) e.observe(running);
    now = 20_000;
    expect(await e.tick()).toEqual([]);
    expect(e.backlog).toBe(1);
    expect(errors).toEqual(['outbox full']);
    fail = false;
    for (now = 20_000; now < 30_000; now += 5_000) e.observe(running);
    now = 30_000;
    await e.tick();
    expect(sunk).toEqual([0, 20_000]);
    expect(e.backlog).toBe(0);
  });

  it('emits nothing for a workspace that stopped', async () => {
    let now = 0;
    const sunk: UsageRecord[] = [];
    const e = new UsageEmitter({ node: 'gpu-01', clock: () => now, sink: (r) => { sunk.push(r as UsageRecord); } });
    for (; now < 30_000; now += 5_000) e.observe([{ ...running[0]!, running: false }]);
    await e.tick();
    expect(sunk).toEqual([]);
  });
});

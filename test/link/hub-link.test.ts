import { it, expect, afterEach } from 'vitest';
import { rmSync } from 'node:fs';
import { HubLink } from '../../agent/link/hub-link.js';
import { isFoundryError } from '../../common/errors.js';
import type { UsageRecord } from '../../agent/usage/usage-types.js';
import { freePort, startTestHub, tempDir, waitFor, type TestHub } from '../hub/support.js';
import { describeBackends } from '../support/store-backends.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function state(): string {
  const d = tempDir('foundry-link-');
  cleanup.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

// Exactly once across hub restarts and resends, on each store backend.
describeBackends('HubLink', (backend) => {
  it('reconnects with the backoff sequence while the hub is down, and resets once connected', async () => {
    const port = await freePort();
    const delays: number[] = [];
    let fire: (() => void) | undefined;
    const link = new HubLink({
      hubUrl: `http://127.0.0.1:${port}`, node: 'n1', credential: 'fnc_x', stateDir: state(), random: () => 0.5,
      timers: { setTimeout: (fn, ms) => { delays.push(ms); fire = fn; return 1; }, clearTimeout: () => undefined },
    }).start();
    cleanup.push(() => link.close());
    for (let i = 0; i < 5; i++) {
      await waitFor(() => delays.length === i + 1, 5000, `retry ${i + 1}`);
      fire!();
    }
    await waitFor(() => delays.length === 6, 5000, 'retry 6');
    expect(delays).toEqual([1000, 1600, 2560, 4096, 6554, 10486]);
  });

  it('keeps unacked entries on disk across restarts and continues the sequence', async () => {
    const dir = state();
    const port = await freePort();
    const first = new HubLink({ hubUrl: `http://127.0.0.1:${port}`, node: 'n1', credential: 'fnc_x', stateDir: dir });
    const s1 = first.enqueueUsage({ a: 1 });
    expect(first.enqueueUsage({ a: 2 })).toBe(s1 + 1);
    await first.close();
    const hub: TestHub = await startTestHub({ backend });
    cleanup.push(() => hub.close());
    const credential = (await hub.store.issueNodeCredential('n1'));
    const second = new HubLink({ hubUrl: hub.url, node: 'n1', credential, stateDir: dir });
    cleanup.push(() => second.close());
    expect(second.pending()).toBe(2);
    expect(second.enqueueUsage({ a: 3 })).toBe(s1 + 2);
    // The usage emitter's record type goes in as it is.
    const record: UsageRecord = { kind: 'gpu-allocation', version: 1, key: 'n1/w/GPU-1/0', node: 'n1', workspace: 'w', tenant: 't', gpuUuid: 'GPU-1', gpuModel: null, from: 0, to: 60_000, fromIso: '1970-01-01T00:00:00.000Z', toIso: '1970-01-01T00:01:00.000Z', seconds: 60, measuredAvgUtilizationPct: null, measuredSamples: 0 };
    expect(second.enqueueUsage(record)).toBe(s1 + 3);
    second.start();
    await waitFor(() => second.pending() === 0, 5000, 'drained');
    expect((await hub.store.usageRecords('n1')).map((r) => [r.seq - s1, r.payload])).toEqual([[0, { a: 1 }], [1, { a: 2 }], [2, { a: 3 }], [3, record]]);
    expect(second.lastSeq()).toBe(s1 + 3);
  });

  it('after its state dir is wiped, the agent never reuses a seq, so the hub does not drop new records as resends', async () => {
    const hub: TestHub = await startTestHub({ backend });
    cleanup.push(() => hub.close());
    const credential = (await hub.store.issueNodeCredential('n1'));
    const dir = state();
    const before = new HubLink({ hubUrl: hub.url, node: 'n1', credential, stateDir: dir }).start();
    before.enqueueUsage({ life: 1 });
    before.enqueueUsage({ life: 1, n: 2 });
    await waitFor(() => before.pending() === 0, 5000, 'first life drained');
    await before.close();
    rmSync(dir, { recursive: true, force: true });
    await new Promise((r) => setTimeout(r, 2)); // a later millisecond, as any reinstall is
    const after = new HubLink({ hubUrl: hub.url, node: 'n1', credential, stateDir: dir }).start();
    cleanup.push(() => after.close());
    expect(after.enqueueUsage({ life: 2 })).toBeGreaterThan((await hub.store.usageRecords('n1')).at(-1)?.seq ?? Infinity);
    await waitFor(() => after.pending() === 0, 5000, 'second life drained');
    expect((await hub.store.usageRecords('n1')).map((r) => r.payload)).toEqual([{ life: 1 }, { life: 1, n: 2 }, { life: 2 }]);
  });

  it('refuses to enqueue what the hub would refuse, so the outbox never holds a poison entry', async () => {
    const link = new HubLink({ hubUrl: 'http://127.0.0.1:1', node: 'n1', credential: 'fnc_x', stateDir: state() });
    cleanup.push(() => link.close());
    const tooBig = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i]));
    let err: unknown;
    try {
      link.enqueueUsage(tooBig);
    } catch (e) {
      err = e;
    }
    expect(isFoundryError(err, 'PROTOCOL_FRAME') && err.message).toBe('usage message: /body/record must NOT have more than 64 properties');
    expect(link.pending()).toBe(0);
    expect(link.sendTelemetry({ at: 1, gpus: [], host: { cpuPct: null, memUsedBytes: null, memTotalBytes: null } })).toBe(false);
  });

  it('is told why the hub refused it', async () => {
    const hub = await startTestHub({ backend });
    cleanup.push(() => hub.close());
    const link = new HubLink({ hubUrl: hub.url, node: 'n1', credential: 'fnc_wrong', stateDir: state(), timers: { setTimeout: () => 0, clearTimeout: () => undefined } });
    cleanup.push(() => link.close());
    const status = new Promise<number>((resolve) => link.once('refused', resolve));
    link.start();
    expect(await status).toBe(401);
  });
});

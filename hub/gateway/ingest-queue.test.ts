import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { IngestQueue, type AckTarget } from './ingest-queue.js';
import { HubStore } from '../store/hub-store.js';
import { createMetrics } from '../metrics.js';

const log = { warn() {}, error() {}, info() {}, debug() {} } as unknown as FastifyBaseLogger;
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function setup(): { store: HubStore; queue: IngestQueue } {
  const dir = mkdtempSync(join(tmpdir(), 'ingest-'));
  dirs.push(dir);
  const store = new HubStore(join(dir, 'hub.db'));
  return { store, queue: new IngestQueue(store, createMetrics(), log, undefined, 3_600_000) };
}

const sample = (i: number) => ({ node: `n${i}`, at: Date.now(), gpus: [], host: { cpuPct: 1, memUsedBytes: 1, memTotalBytes: 2 } });
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const count = (store: HubStore, table: string): number => store.db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number;

describe('IngestQueue', () => {
  it('commits a turn of outbox items in one go and acks each target its own seqs', async () => {
    const { store, queue } = setup();
    const acks: Record<string, number[][]> = { a: [], b: [] };
    const target = (k: 'a' | 'b'): AckTarget => ({ ack: (s) => acks[k]!.push(s), commitFailed: () => undefined });
    const [ta, tb] = [target('a'), target('b')];
    queue.add(ta, { node: 'a', seq: 1, kind: 'usage', payload: {} });
    queue.add(tb, { node: 'b', seq: 9, kind: 'usage', payload: {} });
    queue.add(ta, { node: 'a', seq: 2, kind: 'usage', payload: {} });
    expect(acks).toEqual({ a: [], b: [] });
    await turn();
    expect(acks).toEqual({ a: [[1, 2]], b: [[9]] });
    await queue.close();
    await store.close();
  });

  it('stores a refused usage record apart, acks it with its reason, and never makes it usage', async () => {
    const { store, queue } = setup();
    const acks: Array<[number[], unknown[]]> = [];
    const t: AckTarget = { ack: (s, r) => acks.push([s, r]), commitFailed: () => undefined };
    queue.add(t, { node: 'a', seq: 1, kind: 'usage', payload: { ok: true } });
    queue.add(t, { node: 'a', seq: 2, kind: 'usage-refused', payload: { x: 'y'.repeat(5000) }, refusal: { reason: 'in-future', message: 'too late', field: '/body/record/to' } });
    // a resend of an admitted seq that is refused now (the history moved on) stays admitted
    queue.add(t, { node: 'a', seq: 1, kind: 'usage-refused', payload: { ok: true }, refusal: { reason: 'unknown-workspace', message: 'gone' } });
    await turn();
    expect(acks).toEqual([[[1, 2, 1], [{ seq: 2, reason: 'in-future', field: '/body/record/to' }]]]);
    expect((await store.usageRecords()).map((r) => r.seq)).toEqual([1]);
    const rows = store.db.prepare('SELECT seq, reason, field, length(record) AS n FROM usage_refusals').all();
    expect(rows).toEqual([{ seq: 2, reason: 'in-future', field: '/body/record/to', n: 4096 }]);
    await queue.close();
    await store.close();
  });

  it('writes telemetry in chunks of 250 rows, one transaction each, and everything on close', async () => {
    const { store, queue } = setup();
    const chunks: number[] = [];
    const write = store.writeTelemetry.bind(store);
    store.writeTelemetry = async (t) => {
      chunks.push(t.latest.length);
      await write(t);
    };
    for (let i = 0; i < 600; i++) queue.addTelemetry(sample(i));
    const flushing = queue.flushTelemetry();
    for (let i = 600; i < 700; i++) queue.addTelemetry(sample(i));
    await flushing;
    expect(chunks).toEqual([250, 250, 100]);
    expect(count(store, 'telemetry_latest')).toBe(600);
    await queue.close();
    expect(chunks).toEqual([250, 250, 100, 100]);
    expect(count(store, 'telemetry_latest')).toBe(700);
    expect(count(store, 'telemetry_rollups')).toBe(700);
    await store.close();
  });
});

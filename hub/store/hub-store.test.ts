import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubStore } from './hub-store.js';
import { MIGRATIONS } from './migrations/index.js';

const dirs: string[] = [];
function tmpStore(): { store: HubStore; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hub-store-'));
  dirs.push(dir);
  const path = join(dir, 'data', 'hub.db');
  return { store: new HubStore(path, { now: () => new Date('2026-11-27T10:00:00Z') }), path };
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('HubStore', () => {
  it('migrates once, in WAL mode with synchronous=FULL', async () => {
    const { store, path } = tmpStore();
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
    await store.close();
    const again = new HubStore(path);
    expect(again.db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all()).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    expect(MIGRATIONS[0]).toMatchObject({ version: 1, name: 'initial' });
    await again.close();
  });

  it('refuses a store newer than the code', async () => {
    const { store, path } = tmpStore();
    store.db.prepare("INSERT INTO schema_migrations VALUES (99, 'future', 'x')").run();
    await store.close();
    expect(() => new HubStore(path)).toThrow(`${path} has schema version 99 but this hub knows versions up to`);
  });

  it('authenticates node credentials by hash, revokes, and rotates', async () => {
    const { store } = tmpStore();
    const cred = (await store.issueNodeCredential('gpu-01'));
    expect(cred).toMatch(/^fnc_[A-Za-z0-9_-]{43}$/);
    expect(store.db.prepare('SELECT credential_hash FROM nodes').pluck().get()).not.toContain(cred.slice(4));
    expect((await store.authenticateNode(cred))).toEqual({ ok: true, node: 'gpu-01' });
    expect((await store.authenticateNode(cred + 'x'))).toEqual({ ok: false, reason: 'unknown' });
    expect((await store.revokeNode('gpu-01'))).toBe(true);
    expect((await store.authenticateNode(cred))).toEqual({ ok: false, reason: 'revoked', node: 'gpu-01' });
    const rotated = (await store.issueNodeCredential('gpu-01'));
    expect((await store.authenticateNode(cred))).toEqual({ ok: false, reason: 'unknown' });
    expect((await store.authenticateNode(rotated))).toEqual({ ok: true, node: 'gpu-01' });
    expect((await store.auditLog()).map((a) => a.action)).toEqual(['node.credential.issue', 'node.revoke', 'node.credential.issue']);
    await store.close();
  });

  it('admin tokens', async () => {
    const { store } = tmpStore();
    const t = (await store.createAdminToken('ops'));
    expect((await store.authenticateAdmin(t))).toBe('ops');
    expect((await store.authenticateAdmin('fat_nope'))).toBeUndefined();
    await store.close();
  });

  it('ingests usage exactly once per (node, seq)', async () => {
    const { store } = tmpStore();
    expect((await store.ingest([{ node: 'a', seq: 1, kind: 'usage', payload: { x: 1 } }, { node: 'a', seq: 2, kind: 'usage', payload: { x: 2 } }])).fresh).toBe(2);
    expect((await store.ingest([{ node: 'a', seq: 2, kind: 'usage', payload: { x: 2 } }, { node: 'b', seq: 2, kind: 'usage', payload: { x: 3 } }])).fresh).toBe(1);
    expect((await store.usageRecords()).map((r) => [r.node, r.seq, r.payload])).toEqual([['a', 1, { x: 1 }], ['a', 2, { x: 2 }], ['b', 2, { x: 3 }]]);
    await store.close();
  });

  it('keeps the newest status by seq', async () => {
    const { store } = tmpStore();
    await store.ingest([{ node: 'a', seq: 5, kind: 'status', payload: { n: 5 } }]);
    await store.ingest([{ node: 'a', seq: 4, kind: 'status', payload: { n: 4 } }]);
    expect((await store.nodeStatus('a'))).toEqual({ seq: 5, payload: { n: 5 } });
    await store.close();
  });

  it('rolls telemetry up per minute and keeps the latest sample', async () => {
    const { store } = tmpStore();
    const s = (at: number, util: number) => ({ node: 'a', at, gpus: [{ uuid: 'g', utilizationGpuPct: util, memoryUsedMiB: 100, memoryTotalMiB: 200 }], host: { cpuPct: 10, memUsedBytes: 1, memTotalBytes: 2 } });
    await store.recordTelemetry([s(60_000, 20), s(65_000, 40), s(120_000, 90)]);
    const rows = store.db.prepare('SELECT minute, samples, gpu_util_sum, gpu_mem_used_mib_sum FROM telemetry_rollups ORDER BY minute').all();
    expect(rows).toEqual([{ minute: 1, samples: 2, gpu_util_sum: 60, gpu_mem_used_mib_sum: 200 }, { minute: 2, samples: 1, gpu_util_sum: 90, gpu_mem_used_mib_sum: 100 }]);
    expect(store.db.prepare('SELECT at FROM telemetry_latest').pluck().get()).toBe(120_000);
    expect((await store.pruneTelemetry(120_000))).toBe(1);
    // Telemetry commits do not wait for the disk, and leave the connection at FULL for money.
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
    await store.close();
  });
});

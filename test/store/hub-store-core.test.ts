/**
 * HubStore's own statements (node credentials, the outbox inbox, telemetry, audit) on both backends, and
 * the guarantees billing rests on when two hub replicas share one database: (node, seq) is stored once
 * whichever replica commits it, and a refused resend never hides an admitted record.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeBackends, openTestHubStore, type TestHubStores } from '../support/store-backends.js';
import type { HubStore, InboxItem } from '../../hub/store/hub-store.js';

const usage = (node: string, seq: number, x = seq): InboxItem => ({ node, seq, kind: 'usage', payload: { x } });
const refused = (node: string, seq: number): InboxItem => ({ node, seq, kind: 'usage-refused', payload: { bad: true }, refusal: { reason: 'not-placed', field: 'workspace', message: 'not placed here' } });

describeBackends('HubStore', (backend) => {
  let t: TestHubStores;
  let store: HubStore;
  beforeEach(async () => {
    t = await openTestHubStore(backend, { now: () => new Date('2026-11-27T10:00:00Z') });
    store = t.store;
  });
  afterEach(async () => t.close());

  it('authenticates node credentials by hash, revokes, rotates, and audits each step', async () => {
    const cred = await store.issueNodeCredential('gpu-01');
    expect(await store.authenticateNode(cred)).toEqual({ ok: true, node: 'gpu-01' });
    expect(await store.authenticateNode(`${cred}x`)).toEqual({ ok: false, reason: 'unknown' });
    expect(await store.revokeNode('gpu-01')).toBe(true);
    expect(await store.revokeNode('nope')).toBe(false);
    expect(await store.authenticateNode(cred)).toEqual({ ok: false, reason: 'revoked', node: 'gpu-01' });
    const rotated = await store.issueNodeCredential('gpu-01');
    expect(await store.authenticateNode(rotated)).toEqual({ ok: true, node: 'gpu-01' });
    expect((await store.auditLog()).map((a) => a.action)).toEqual(['node.credential.issue', 'node.revoke', 'node.credential.issue']);
    const stored = await store.sql.all<{ credential_hash: string }>('SELECT credential_hash FROM nodes');
    expect(stored.map((r) => r.credential_hash).join()).not.toContain(rotated.slice(4));
  });

  it('admin tokens: authenticated by hash, counted', async () => {
    expect(await store.adminTokenCount()).toBe(0);
    const token = await store.createAdminToken('ops');
    expect(await store.authenticateAdmin(token)).toBe('ops');
    expect(await store.authenticateAdmin('fat_nope')).toBeUndefined();
    expect(await store.adminTokenCount()).toBe(1);
  });

  it('hello, presence and the age recipient; a changed key is audited', async () => {
    await store.issueNodeCredential('n1');
    const hello = { agentVersion: '1.2.3', appliedRevision: 'abc', inventory: { hostname: 'n1' }, ageRecipient: 'age1first' } as never;
    await store.relaxedTransaction(async (tx) => {
      await store.recordHello('n1', hello, tx);
      await store.markSeen('n1', 'disconnected', tx);
    });
    expect((await store.nodes())[0]).toMatchObject({ name: 'n1', status: 'disconnected', agentVersion: '1.2.3', appliedRevision: 'abc', ageRecipient: 'age1first', revoked: false });
    await store.setNodeRecipient('n1', 'age1second', 'admin:ada');
    expect(await store.nodeRecipient('n1')).toBe('age1second');
    expect((await store.auditLog()).map((a) => a.action)).toEqual(['node.credential.issue', 'node.age-recipient.set', 'node.age-recipient.change']);
  });

  it('stores usage once per (node, seq) and keeps the newest status', async () => {
    expect((await store.ingest([usage('a', 1), usage('a', 2)])).fresh).toBe(2);
    expect((await store.ingest([usage('a', 2, 99), usage('b', 2)])).fresh).toBe(1);
    expect((await store.usageRecords()).map((r) => [r.node, r.seq, r.payload])).toEqual([['a', 1, { x: 1 }], ['a', 2, { x: 2 }], ['b', 2, { x: 2 }]]);
    await store.ingest([{ node: 'a', seq: 5, kind: 'status', payload: { n: 5 } }]);
    await store.ingest([{ node: 'a', seq: 4, kind: 'status', payload: { n: 4 } }]);
    expect(await store.nodeStatus('a')).toEqual({ seq: 5, payload: { n: 5 } });
  });

  it('a refused resend of an admitted record stays admitted; a refused record is answered as refused', async () => {
    await store.ingest([usage('a', 1)]);
    const r = await store.ingest([refused('a', 1), refused('a', 2)]);
    expect(r).toEqual({ fresh: 1, refusedKept: [false, true] });
    expect(await store.hasUsage('a', 1)).toBe(true);
    expect(await store.hasUsage('a', 2)).toBe(false);
    expect(await store.sql.all('SELECT node, seq, reason, field FROM usage_refusals')).toEqual([{ node: 'a', seq: 2, reason: 'not-placed', field: 'workspace' }]);
  });

  it('nothing of a failed transaction is kept: not its audit entry, not its rows', async () => {
    await expect(
      store.sql.tx(async (tx) => {
        await store.audit('admin:ada', 'x.try', 'w1', undefined, tx);
        await tx.run('INSERT INTO nodes (name, created_at) VALUES (?, ?)', ['ghost', 'x']);
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(await store.auditLog()).toEqual([]);
    expect(await store.nodes()).toEqual([]);
  });

  it('rolls telemetry up per minute, keeps the latest sample, prunes old minutes', async () => {
    const s = (at: number, util: number) => ({ node: 'a', at, gpus: [{ uuid: 'g', utilizationGpuPct: util, memoryUsedMiB: 100, memoryTotalMiB: 200 }], host: { cpuPct: 10, memUsedBytes: 1, memTotalBytes: 2 } });
    await store.recordTelemetry([s(60_000, 20), s(65_000, 40), s(120_000, 90)]);
    await store.recordTelemetry([s(121_000, 10), s(30_000, 5)]);
    expect(await store.sql.all('SELECT minute, samples, gpu_util_sum, gpu_mem_used_mib_sum FROM telemetry_rollups ORDER BY minute')).toEqual([
      { minute: 0, samples: 1, gpu_util_sum: 5, gpu_mem_used_mib_sum: 100 },
      { minute: 1, samples: 2, gpu_util_sum: 60, gpu_mem_used_mib_sum: 200 },
      { minute: 2, samples: 2, gpu_util_sum: 100, gpu_mem_used_mib_sum: 200 },
    ]);
    // the latest sample wins by its time, not by arrival
    expect(await store.sql.get('SELECT at FROM telemetry_latest')).toEqual({ at: 121_000 });
    expect(await store.pruneTelemetry(120_000)).toBe(2);
  });

  // Replicas are a PostgreSQL feature: an SQLite hub is one process (a second writer in the same process would
  // wait for the first on the one thread both run on).
  // PostgreSQL only (declared for it alone: nothing is skipped)
  if (backend === 'postgres') it('two replicas committing the same outbox items store each (node, seq) once', async () => {
    const other = await t.replica();
    const batch = Array.from({ length: 200 }, (_, i) => usage('n1', i + 1));
    // both replicas receive every record (an agent that reconnected elsewhere resends its outbox)
    const results = await Promise.all([store.ingest(batch), other.ingest([...batch].reverse()), store.ingest(batch.slice(50, 150))]);
    expect(results.reduce((n, r) => n + r.fresh, 0)).toBe(200);
    const rows = await other.sql.all<{ n: number; s: number }>('SELECT COUNT(*) AS n, SUM(seq) AS s FROM usage_records');
    expect(rows).toEqual([{ n: 200, s: (200 * 201) / 2 }]);
  });
});

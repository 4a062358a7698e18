/**
 * The usage repository on both backends, with the same assertions: refused records newest first with
 * their workspace read only from whole JSON, counts per reason and per node, receipts read by row id
 * with names only when they are JSON strings, and a node's enrollment time.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeBackends, openTestSql, type TestSql } from '../support/store-backends.js';
import { SqlUsageRepo } from '../../hub/store/usage-repo.js';
import { listRefusals, refusalsSince } from '../../hub/usage/refusals.js';
import { UsageReceipts } from '../../hub/metrics/usage-receipts.js';

describeBackends('usage repo', (backend) => {
  let db: TestSql;
  let repo: SqlUsageRepo;
  const refuse = (node: string, seq: number, reason: string, record: string, receivedAt: string, field: string | null = null) =>
    db.sql.run('INSERT INTO usage_refusals (node, seq, reason, field, message, record, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [node, seq, reason, field, `refused: ${reason}`, record, receivedAt]);
  const usage = (node: string, seq: number, payload: unknown, receivedAt: string) =>
    db.sql.run('INSERT INTO usage_records (node, seq, payload, received_at) VALUES (?, ?, ?, ?)', [node, seq, JSON.stringify(payload), receivedAt]);

  beforeEach(async () => {
    db = await openTestSql(backend);
    repo = new SqlUsageRepo(db.sql);
  });
  afterEach(async () => db?.close());

  it('lists refused records newest first, filtered, with the workspace only from a whole JSON object', async () => {
    await refuse('n1', 1, 'malformed', '{"workspace":"w1","from":"x"}', '2026-12-08T00:00:01.000Z', 'from');
    await refuse('n1', 2, 'unknown-workspace', '{"workspace":"w2","tenant":"acme"', '2026-12-08T00:00:02.000Z'); // truncated
    await refuse('n2', 1, 'malformed', '{"workspace":7}', '2026-12-08T00:00:02.000Z');
    await refuse('n2', 2, 'malformed', '["workspace"]', '2026-12-07T00:00:00.000Z');
    await refuse('n2', 3, 'wrong-node', '{"workspace":"w3"}', '2026-12-08T00:00:02.000Z');

    const all = await repo.refusals({ limit: 10 });
    expect(all.map((r) => [r.node, r.seq, r.workspace, r.receivedAt])).toEqual([
      ['n1', 2, null, '2026-12-08T00:00:02.000Z'],
      ['n2', 3, 'w3', '2026-12-08T00:00:02.000Z'],
      ['n2', 1, null, '2026-12-08T00:00:02.000Z'],
      ['n1', 1, 'w1', '2026-12-08T00:00:01.000Z'],
      ['n2', 2, null, '2026-12-07T00:00:00.000Z'],
    ]);
    expect(all[3]).toEqual({ node: 'n1', seq: 1, workspace: 'w1', reason: 'malformed', field: 'from', message: 'refused: malformed', record: '{"workspace":"w1","from":"x"}', receivedAt: '2026-12-08T00:00:01.000Z' });
    expect(all[0]!.field).toBeNull();
    expect((await repo.refusals({ node: 'n2', limit: 10 })).map((r) => r.seq)).toEqual([3, 1, 2]);
    expect((await repo.refusals({ node: 'n2', reason: 'malformed', limit: 1 })).map((r) => r.seq)).toEqual([1]);
    expect(await repo.refusalCounts()).toEqual({ malformed: 3, 'unknown-workspace': 1, 'wrong-node': 1 });
    expect(await repo.refusalCountsSince('2026-12-08T00:00:00.000Z')).toEqual([
      { node: 'n1', reason: 'malformed', n: 1 },
      { node: 'n1', reason: 'unknown-workspace', n: 1 },
      { node: 'n2', reason: 'malformed', n: 1 },
      { node: 'n2', reason: 'wrong-node', n: 1 },
    ]);
    // the domain functions over the repository
    expect((await listRefusals(repo, { reason: 'wrong-node' })).refused.map((r) => r.node)).toEqual(['n2']);
    expect(await refusalsSince(repo, '2026-12-08T00:00:02.000Z')).toEqual([
      { node: 'n1', total: 1, byReason: { 'unknown-workspace': 1 } },
      { node: 'n2', total: 2, byReason: { malformed: 1, 'wrong-node': 1 } },
    ]);
  });

  it('reads receipts after a row id, names only when they are JSON strings, in pages', async () => {
    await usage('n1', 1, { tenant: 'acme', workspace: 'a' }, '2026-12-08T00:00:10.500Z');
    await usage('n1', 2, { tenant: 5, workspace: 'b' }, '2026-12-08T00:00:11.000Z');
    await usage('n1', 3, { workspace: 'c' }, '2026-12-08T00:00:12.000Z');
    const rows = await repo.receiptsAfter(0);
    expect(rows.map((r) => [r.tenant, r.workspace, r.receivedAt])).toEqual([['acme', 'a', '2026-12-08T00:00:10.500Z'], [null, 'b', '2026-12-08T00:00:11.000Z'], [null, 'c', '2026-12-08T00:00:12.000Z']]);
    expect((await repo.receiptsAfter(rows[0]!.id)).map((r) => r.workspace)).toEqual(['b', 'c']);
    expect((await repo.receiptsAfter(0, 2)).map((r) => r.workspace)).toEqual(['a', 'b']);
    expect(await repo.receiptsAfter(rows[2]!.id)).toEqual([]);
    const receipts = new UsageReceipts(repo);
    expect(await receipts.read()).toEqual([{ tenant: 'acme', workspace: 'a', receivedSec: Math.floor(Date.parse('2026-12-08T00:00:10Z') / 1000) }]);
  });

  it('tells when a node was enrolled', async () => {
    await db.sql.run('INSERT INTO nodes (name, created_at) VALUES (?, ?)', ['n1', '2026-12-01T00:00:00.000Z']);
    expect(await repo.enrolledAt('n1')).toBe('2026-12-01T00:00:00.000Z');
    expect(await repo.enrolledAt('n2')).toBeUndefined();
  });
});

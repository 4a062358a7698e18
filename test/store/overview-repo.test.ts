/** The overview repository on both backends, with the same assertions: what the dashboard's overview routes read. */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeBackends, openTestSql, type TestSql } from '../support/store-backends.js';
import { SqlOverviewRepo } from '../../hub/store/overview-repo.js';

describeBackends('overview repo', (backend) => {
  let db: TestSql;
  let repo: SqlOverviewRepo;

  beforeEach(async () => {
    db = await openTestSql(backend);
    repo = new SqlOverviewRepo(db.sql);
  });
  afterEach(async () => db?.close());

  it('reads nodes, enrollments, statuses and telemetry by node', async () => {
    await db.sql.run('INSERT INTO nodes (name, created_at, inventory) VALUES (?, ?, ?), (?, ?, ?)', ['n2', 'x', '{"gpus":[]}', 'n1', 'x', null]);
    await db.sql.run('INSERT INTO join_tokens (id, token_hash, profile, labels, max_uses, expires_at, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', ['t1', 'h', 'gpu-node', '{}', 1, 'y', 'admin', 'x']);
    await db.sql.run('INSERT INTO node_enrollments (node, token_id, hostname, profile, labels, inventory, enrolled_at) VALUES (?, ?, ?, ?, ?, ?, ?)', ['n2', 't1', 'host-2', 'gpu-node', '{"rack":"a"}', '{}', '2026-12-01T00:00:00.000Z']);
    await db.sql.run('INSERT INTO node_status (node, seq, payload, updated_at) VALUES (?, ?, ?, ?), (?, ?, ?, ?)', ['n2', 3, '{"s":2}', 'x', 'n1', 1, '{"s":1}', 'x']);
    await db.sql.run('INSERT INTO telemetry_latest (node, at, payload) VALUES (?, ?, ?)', ['n1', 5, '{"t":1}']);
    expect(await repo.nodeInventories()).toEqual([{ name: 'n1', inventory: null }, { name: 'n2', inventory: '{"gpus":[]}' }]);
    expect(await repo.enrollments()).toEqual([{ node: 'n2', tokenId: 't1', hostname: 'host-2', profile: 'gpu-node', labels: '{"rack":"a"}', enrolledAt: '2026-12-01T00:00:00.000Z' }]);
    expect(await repo.nodeStatuses()).toEqual([{ node: 'n1', payload: '{"s":1}' }, { node: 'n2', payload: '{"s":2}' }]);
    expect(await repo.telemetryLatest()).toEqual([{ node: 'n1', payload: '{"t":1}' }]);
  });

  it('sums GPU utilization per minute over nodes, as numbers', async () => {
    const put = (node: string, minute: number, sum: number, samples: number) =>
      db.sql.run('INSERT INTO telemetry_rollups (node, minute, samples, gpu_util_sum, gpu_util_samples, gpu_mem_used_mib_sum, host_cpu_sum, host_cpu_samples) VALUES (?, ?, ?, ?, ?, 0, 0, 0)', [node, minute, samples, sum, samples]);
    await put('n1', 100, 150.5, 2);
    await put('n2', 100, 50, 1);
    await put('n1', 101, 0, 0);
    await put('n1', 99, 10, 1);
    expect(await repo.utilizationSince(100)).toEqual([{ minute: 100, sum: 200.5, samples: 3 }, { minute: 101, sum: 0, samples: 0 }]);
  });

  it('pages the audit log newest first', async () => {
    for (const action of ['a', 'b', 'c']) await db.sql.run('INSERT INTO audit_log (at, actor, action, target, details) VALUES (?, ?, ?, ?, ?)', ['x', 'admin', action, null, action === 'b' ? '{"ip":"1.2.3.4"}' : null]);
    const page = await repo.auditPage(Number.MAX_SAFE_INTEGER, 2);
    expect(page.map((r) => [r.action, r.details])).toEqual([['c', null], ['b', '{"ip":"1.2.3.4"}']]);
    expect((await repo.auditPage(page[1]!.id, 10)).map((r) => [r.action, r.actor, r.target])).toEqual([['a', 'admin', null]]);
  });
});

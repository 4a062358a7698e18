/** FleetRepo on both backends: inventories, latest telemetry, status, and signatures that move with the data. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBackends, openTestSql, type TestSql } from '../support/store-backends.js';
import { SqlFleetRepo, type Topic } from '../../hub/store/fleet-repo.js';

describeBackends('fleet repo', (backend) => {
  let db: TestSql;
  let repo: SqlFleetRepo;
  beforeAll(async () => {
    db = await openTestSql(backend);
    repo = new SqlFleetRepo(db.sql);
  });
  afterAll(async () => db?.close());

  const changedBy = async (write: () => Promise<unknown>): Promise<Topic[]> => {
    const before = await repo.signatures();
    await write();
    const after = await repo.signatures();
    return (Object.keys(after) as Topic[]).filter((t) => after[t] !== before[t]).sort();
  };

  it('answers signatures on an empty store, and the same ones again when nothing changed', async () => {
    const sigs = await repo.signatures();
    expect(Object.keys(sigs).sort()).toEqual(['audit', 'billing', 'enrollment', 'nodes', 'refused', 'telemetry', 'workspaces']);
    expect(await repo.signatures()).toEqual(sigs);
    await expect(repo.ping()).resolves.toBeUndefined();
  });

  it('reads inventories (null before a hello), the latest telemetry by node and a node\'s status', async () => {
    await db.sql.run('INSERT INTO nodes (name, created_at, inventory) VALUES (?, ?, ?)', ['gpu-01', 'x', JSON.stringify({ gpus: [{ uuid: 'GPU-1', model: 'H100' }] })]);
    await db.sql.run('INSERT INTO nodes (name, created_at) VALUES (?, ?)', ['gpu-02', 'x']);
    expect(await repo.inventories()).toEqual(new Map<string, unknown>([['gpu-01', { gpus: [{ uuid: 'GPU-1', model: 'H100' }] }], ['gpu-02', null]]));
    await db.sql.run('INSERT INTO telemetry_latest (node, at, payload) VALUES (?, ?, ?)', ['gpu-02', 5, '{"node":"gpu-02","at":5}']);
    await db.sql.run('INSERT INTO telemetry_latest (node, at, payload) VALUES (?, ?, ?)', ['gpu-01', 7, '{"node":"gpu-01","at":7}']);
    expect(await repo.latestTelemetry()).toEqual([{ node: 'gpu-01', payload: { node: 'gpu-01', at: 7 } }, { node: 'gpu-02', payload: { node: 'gpu-02', at: 5 } }]);
    expect(await repo.statusOf('gpu-01')).toBeUndefined();
    await db.sql.run('INSERT INTO node_status (node, seq, payload, updated_at) VALUES (?, ?, ?, ?)', ['gpu-01', 3, '{"resources":[]}', 'x']);
    expect(await repo.statusOf('gpu-01')).toEqual({ resources: [] });
  });

  it('moves each topic\'s signature with its own data only', async () => {
    expect(await changedBy(() => db.sql.run("UPDATE nodes SET status = 'connected' WHERE name = ?", ['gpu-02']))).toEqual(['nodes']);
    expect(await changedBy(() => db.sql.run('UPDATE nodes SET revoked = 1 WHERE name = ?', ['gpu-02']))).toEqual(['nodes']);
    expect(await changedBy(() => db.sql.run('UPDATE node_status SET seq = 4 WHERE node = ?', ['gpu-01']))).toEqual(['nodes']);
    expect(await changedBy(() => db.sql.run('UPDATE telemetry_latest SET at = 8 WHERE node = ?', ['gpu-01']))).toEqual(['telemetry']);
    expect(await changedBy(() => db.sql.run("INSERT INTO audit_log (at, actor, action) VALUES ('x', 'a', 'b')"))).toEqual(['audit']);
    expect(await changedBy(() => db.sql.run("INSERT INTO workspace_lifecycle (name, tenant, phase, reason, updated_at) VALUES ('w', 't', 'Pending', 'R', '2026-01-01')"))).toEqual(['workspaces']);
    expect(await changedBy(() => db.sql.run("INSERT INTO usage_records (node, seq, payload, received_at) VALUES ('gpu-01', 1, '{}', 'x')"))).toEqual(['billing']);
    expect(await changedBy(() => db.sql.run("INSERT INTO usage_refusals (node, seq, reason, message, record, received_at) VALUES ('gpu-01', 2, 'malformed', 'm', '{}', 'x')"))).toEqual(['refused']);
    expect(await changedBy(() => db.sql.run("INSERT INTO join_tokens (id, token_hash, profile, labels, max_uses, expires_at, created_by, created_at) VALUES ('t', 'h', 'p', '{}', 1, 'x', 'c', 'x')"))).toEqual(['enrollment']);
    expect(await changedBy(() => db.sql.run("UPDATE join_tokens SET revoked = 1 WHERE id = 't'"))).toEqual(['enrollment']);
  });
});

/** The ingress repository on both backends: single-use codes, app sessions joined with dashboard sessions, pruning, statuses. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBackends, openTestSql, type TestSql } from '../support/store-backends.js';
import { SqlAppSessionsRepo } from '../../hub/store/app-sessions-repo.js';

const T0 = '2026-12-01T00:00:00.000Z';
const T1 = '2026-12-01T01:00:00.000Z';
const T2 = '2026-12-01T02:00:00.000Z';

describeBackends('app sessions repo', (backend) => {
  let db: TestSql;
  let repo: SqlAppSessionsRepo;
  beforeAll(async () => {
    db = await openTestSql(backend);
    repo = new SqlAppSessionsRepo(db.sql);
    await db.sql.run("INSERT INTO users (name, role, tenant, password_hash, created_at) VALUES ('tom', 'tenant', 'acme', 'x', ?)", [T0]);
    await db.sql.run('UPDATE users SET sso_provider = ? WHERE name = ?', ['okta', 'tom']);
    for (const [id, sso] of [['S1', null], ['S2', 'okta']] as const) {
      await db.sql.run('INSERT INTO sessions (id_hash, "user", csrf_token, created_at, last_seen_at, expires_at, sso_provider) VALUES (?, ?, ?, ?, ?, ?, ?)', [id, 'tom', 'csrf', T0, T0, T2, sso]);
    }
  });
  afterAll(async () => db?.close());

  it('takes a login code once', async () => {
    await repo.insertCode('C1', 'S1', 'app--w1', '/path?q=1', T1);
    expect(await repo.takeCode('C1')).toEqual({ sessionHash: 'S1', host: 'app--w1', rd: '/path?q=1', expiresAt: T1 });
    expect(await repo.takeCode('C1')).toBeUndefined();
    expect(await repo.takeCode('nope')).toBeUndefined();
  });

  it('reads a dashboard session\'s user and times', async () => {
    expect(await repo.dashboardSession('S1')).toEqual({ user: 'tom', expiresAt: T2, lastSeenAt: T0 });
    expect(await repo.dashboardSession('S9')).toBeUndefined();
  });

  it('finds an app session with its dashboard session in one row; touch moves the dashboard session\'s activity', async () => {
    await repo.insert('A1', 'S2', 'app--w1', T0, T2);
    expect(await repo.find('A1')).toEqual({ user: 'tom', ssoProvider: 'okta', sessionHash: 'S2', host: 'app--w1', expiresAt: T2, sessionExpiresAt: T2, sessionLastSeenAt: T0 });
    await repo.touch('S2', T1);
    expect((await repo.find('A1'))?.sessionLastSeenAt).toBe(T1);
    expect(await repo.find('A9')).toBeUndefined();
  });

  it('closes an app session once; a dashboard session\'s end ends its app sessions and codes', async () => {
    await repo.insert('A2', 'S1', 'app--w2', T0, T2);
    expect(await repo.close('A2')).toBe(true);
    expect(await repo.close('A2')).toBe(false);
    await repo.insert('A3', 'S1', 'app--w2', T0, T2);
    await repo.insertCode('C3', 'S1', 'app--w2', '/', T1);
    await db.sql.run("DELETE FROM sessions WHERE id_hash = 'S1'");
    expect(await repo.find('A3')).toBeUndefined();
    expect(await repo.takeCode('C3')).toBeUndefined();
  });

  it('prunes codes and app sessions expired at the time given', async () => {
    await repo.insertCode('C4', 'S2', 'h', '/', T0);
    await repo.insertCode('C5', 'S2', 'h', '/', T2);
    await repo.insert('A4', 'S2', 'h', T0, T1);
    expect(await repo.prune(T1)).toBe(2);
    expect(await repo.find('A4')).toBeUndefined();
    expect(await repo.find('A1')).toBeDefined();
    expect(await repo.takeCode('C5')).toBeDefined();
    expect(await repo.prune(T1)).toBe(0);
  });

  it('reads the nodes\' last status sequence numbers and one status', async () => {
    expect(await repo.statusSeqs()).toEqual([]);
    await db.sql.run('INSERT INTO node_status (node, seq, payload, updated_at) VALUES (?, ?, ?, ?), (?, ?, ?, ?)', ['n1', 7, '{"a":1}', T0, 'n2', 2 ** 40, '{}', T0]);
    expect((await repo.statusSeqs()).sort((a, b) => a.node.localeCompare(b.node))).toEqual([{ node: 'n1', seq: 7 }, { node: 'n2', seq: 2 ** 40 }]);
    expect(await repo.status('n1')).toEqual({ seq: 7, payload: '{"a":1}' });
    expect(await repo.status('n3')).toBeUndefined();
  });
});

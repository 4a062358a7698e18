/** SessionsRepo on both backends: insert, read, touch, delete, prune. */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeBackends, openTestSql, type TestSql } from '../support/store-backends.js';
import { SqlSessionsRepo } from '../../hub/store/sessions-repo.js';
import { SqlUsersRepo } from '../../hub/store/users-repo.js';

const AT = '2026-12-07T12:00:00.000Z';
const session = (over: { expiresAt?: string; createdAt?: string; ssoProvider?: string | null } = {}) => ({
  user: 'ada', csrfToken: 'csrf-1', ip: '192.0.2.7', createdAt: over.createdAt ?? AT, expiresAt: over.expiresAt ?? '2026-12-14T12:00:00.000Z', ssoProvider: over.ssoProvider ?? null,
});

describeBackends('sessions repo', (backend) => {
  let db: TestSql;
  let sessions: SqlSessionsRepo;
  beforeEach(async () => {
    db = await openTestSql(backend);
    sessions = new SqlSessionsRepo(db.sql);
    await new SqlUsersRepo(db.sql).create({ name: 'ada', role: 'admin', tenant: null, tenantRole: 'member', passwordHash: 'x', createdAt: AT });
  });
  afterEach(async () => db?.close());

  it('stores a session by its hash; its last use is its creation', async () => {
    await sessions.insert('h1', session({ ssoProvider: 'acme-sso' }));
    expect(await sessions.get('h1')).toEqual({ user: 'ada', csrfToken: 'csrf-1', ip: '192.0.2.7', createdAt: AT, lastSeenAt: AT, expiresAt: '2026-12-14T12:00:00.000Z', ssoProvider: 'acme-sso' });
    expect(await sessions.get('h2')).toBeUndefined();
  });

  it('records a use, and deletes once', async () => {
    await sessions.insert('h1', session());
    await sessions.touch('h1', '2026-12-07T13:00:00.000Z');
    expect((await sessions.get('h1'))?.lastSeenAt).toBe('2026-12-07T13:00:00.000Z');
    expect(await sessions.delete('h1')).toBe(true);
    expect(await sessions.delete('h1')).toBe(false);
    expect(await sessions.get('h1')).toBeUndefined();
  });

  it('prunes sessions expired or idle, keeping live ones', async () => {
    await sessions.insert('expired', session({ expiresAt: '2026-12-07T12:30:00.000Z', createdAt: '2026-12-07T12:20:00.000Z' }));
    await sessions.insert('idle', session({ createdAt: '2026-12-07T03:00:00.000Z' }));
    await sessions.insert('live', session({ createdAt: '2026-12-07T12:10:00.000Z' }));
    expect(await sessions.prune('2026-12-07T13:00:00.000Z', '2026-12-07T05:00:00.000Z')).toBe(2);
    expect(await sessions.get('live')).toBeDefined();
    expect(await sessions.get('expired')).toBeUndefined();
    expect(await sessions.get('idle')).toBeUndefined();
  });

  it('goes with its user', async () => {
    await sessions.insert('h1', session());
    await db.sql.run('DELETE FROM users WHERE name = ?', ['ada']);
    expect(await sessions.get('h1')).toBeUndefined();
  });
});

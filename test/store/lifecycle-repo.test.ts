/** LifecycleRepo on both backends: phases with their times, transitions as events, refreshes in place. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBackends, openTestSql, type TestSql } from '../support/store-backends.js';
import { SqlLifecycleRepo } from '../../hub/store/lifecycle-repo.js';

const T = (s: number): Date => new Date(Date.UTC(2026, 10, 30, 0, 0, s));

describeBackends('lifecycle repo', (backend) => {
  let db: TestSql;
  let repo: SqlLifecycleRepo;
  beforeAll(async () => {
    db = await openTestSql(backend);
    repo = new SqlLifecycleRepo(db.sql, () => T(59));
  });
  afterAll(async () => db?.close());

  it('records transitions with the time of each phase and keeps the last known revision', async () => {
    expect(await repo.get('acme-a')).toBeUndefined();
    expect(await repo.record('acme-a', 'acme', { phase: 'Pending', reason: 'Requested', message: 'by kim', node: null }, null, T(1))).toBe(true);
    expect(await repo.record('acme-a', 'acme', { phase: 'Placed', reason: 'Scheduled', message: 'gpu-01 fits', node: 'gpu-01' }, 'rev1', T(2))).toBe(true);
    expect(await repo.record('acme-a', 'acme', { phase: 'Running', reason: 'Ready', message: '', node: 'gpu-01' }, null, T(3))).toBe(true);
    expect(await repo.get('acme-a')).toEqual({
      name: 'acme-a', tenant: 'acme', phase: 'Running', reason: 'Ready', message: '', node: 'gpu-01', revision: 'rev1',
      times: { pendingAt: T(1).toISOString(), placedAt: T(2).toISOString(), runningAt: T(3).toISOString() }, updatedAt: T(3).toISOString(),
    });
    expect(await repo.events('acme-a')).toEqual([
      { at: T(1).toISOString(), phase: 'Pending', reason: 'Requested', message: 'by kim' },
      { at: T(2).toISOString(), phase: 'Placed', reason: 'Scheduled', message: 'gpu-01 fits' },
      { at: T(3).toISOString(), phase: 'Running', reason: 'Ready', message: '' },
    ]);
  });

  it('refreshes reason and message of the same phase in place, without an event; a new node is a transition', async () => {
    await repo.record('acme-b', 'acme', { phase: 'Pending', reason: 'Unschedulable', message: 'no gpu', node: null }, 'rev1', T(10));
    expect(await repo.record('acme-b', 'acme', { phase: 'Pending', reason: 'Unschedulable', message: 'no gpu', node: null }, 'rev2', T(11))).toBe(false);
    expect(await repo.record('acme-b', 'acme', { phase: 'Pending', reason: 'Unschedulable', message: 'still no gpu', node: null }, 'rev2', T(12))).toBe(false);
    expect(await repo.get('acme-b')).toMatchObject({ message: 'still no gpu', revision: 'rev1', updatedAt: T(10).toISOString() });
    expect(await repo.events('acme-b')).toHaveLength(1);
    await repo.record('acme-b', 'acme', { phase: 'Placed', reason: 'Scheduled', message: '', node: 'gpu-01' }, 'rev3', T(13));
    expect(await repo.record('acme-b', 'acme', { phase: 'Placed', reason: 'Scheduled', message: '', node: 'gpu-02' }, null)).toBe(true);
    expect(await repo.get('acme-b')).toMatchObject({ node: 'gpu-02', revision: 'rev3', updatedAt: T(59).toISOString() });
    expect((await repo.events('acme-b')).map((e) => e.phase)).toEqual(['Pending', 'Placed', 'Placed']);
  });

  it('records one transition when the same change is recorded twice at once', async () => {
    const o = { phase: 'Failed' as const, reason: 'ImageMissing', message: 'x', node: 'gpu-01' };
    const both = await Promise.all([repo.record('acme-a', 'acme', o, null, T(20)), repo.record('acme-a', 'acme', o, null, T(20))]);
    expect(both.sort()).toEqual([false, true]);
    expect((await repo.events('acme-a')).filter((e) => e.phase === 'Failed')).toHaveLength(1);
    // and for a workspace seen for the first time (no row to wait on yet)
    const p = { phase: 'Pending' as const, reason: 'Requested', message: '', node: null };
    const first = await Promise.all([repo.record('acme-new', 'acme', p, null, T(21)), repo.record('acme-new', 'acme', p, null, T(21))]);
    expect(first.sort()).toEqual([false, true]);
    expect(await repo.events('acme-new')).toHaveLength(1);
  });

  it('lists every lifecycle or one tenant\'s, by name', async () => {
    await repo.record('globex-a', 'globex', { phase: 'Pending', reason: 'Requested', message: '', node: null }, null, T(30));
    expect((await repo.list()).map((r) => r.name)).toEqual(['acme-a', 'acme-b', 'acme-new', 'globex-a']);
    expect((await repo.list('globex')).map((r) => [r.name, r.phase])).toEqual([['globex-a', 'Pending']]);
    expect(await repo.list('nobody')).toEqual([]);
  });
});

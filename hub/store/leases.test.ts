/** Named locks: one holder at a time across replicas, freed after an error. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBackends, openTestHubStore, type TestHubStores } from '../../test/support/store-backends.js';
import { waitFor } from '../../test/hub/support.js';
import type { HubStore } from './hub-store.js';

describeBackends('leases', (backend) => {
  let stores: TestHubStores;
  let other: HubStore;
  beforeAll(async () => {
    stores = await openTestHubStore(backend);
    // SQLite is one process: its lock is per store, so "the other replica" is the same store there
    other = backend === 'postgres' ? await stores.replica() : stores.store;
  });
  afterAll(async () => stores?.close());

  it('lets one replica hold a name at a time; the other enters after it leaves', async () => {
    const log: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const first = stores.store.leases.withLock('month-close', async () => {
      log.push('a in');
      await held;
      log.push('a out');
      return 'a';
    });
    await waitFor(() => log.includes('a in'), 5000, 'the first holder');
    let bIn = false;
    const second = other.leases.withLock('month-close', async () => {
      bIn = true;
      log.push('b in');
      return 'b';
    });
    // another name is not blocked
    expect(await other.leases.withLock('placement', async () => 'free')).toBe('free');
    if (backend === 'postgres') await waitFor(async () => (await stores.store.sql.get<{ n: number }>("SELECT COUNT(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"))?.n === 1, 5000, 'the second replica waiting');
    expect(bIn).toBe(false);
    release();
    expect(await Promise.all([first, second])).toEqual(['a', 'b']);
    expect(log).toEqual(['a in', 'a out', 'b in']);
  });

  it('frees the lock when the holder throws', async () => {
    await expect(stores.store.leases.withLock('x', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await other.leases.withLock('x', async () => 'next')).toBe('next');
    if (backend === 'postgres') expect((await stores.store.sql.get<{ n: number }>("SELECT COUNT(*) AS n FROM pg_locks WHERE locktype = 'advisory'"))?.n).toBe(0);
  });

  it('serves more waiters than the pool has connections while the holder queries (no starvation)', async () => {
    // the stores here have 4 pooled connections: 12 waiters must not take them all from the holder
    const done = await Promise.all(Array.from({ length: 12 }, (_, i) => stores.store.leases.withLock('busy', async () => Number((await stores.store.sql.get<{ i: unknown }>('SELECT ? AS i', [i]))?.i))));
    expect(done).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });
});

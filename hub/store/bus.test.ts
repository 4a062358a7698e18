/** The replicas' bus: every subscriber gets a message once, the publisher knows its own, PostgreSQL listeners come back after losing their connection. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBackends, openTestHubStore, type TestHubStores } from '../../test/support/store-backends.js';
import { waitFor } from '../../test/hub/support.js';
import { describeIf } from '../../test/support/requires.js';
import { postgresAvailable } from '../../test/support/postgres.js';
import type { HubStore } from './hub-store.js';
import { channelOf, LocalBus, PgBus } from './bus.js';

it('refuses topic names that are not plain identifiers and payloads over the limit', async () => {
  expect(() => channelOf('sync-now; DROP')).toThrow('not a topic name');
  expect(channelOf('sync_now')).toBe('foundry_sync_now');
  await expect(new LocalBus().publish('big', { x: 'y'.repeat(8000) })).rejects.toThrow('payload over');
});

describeBackends('bus', (backend) => {
  let stores: TestHubStores;
  let other: HubStore;
  beforeAll(async () => {
    stores = await openTestHubStore(backend);
    other = await stores.replica();
  });
  afterAll(async () => stores?.close());

  it('delivers a message once to each subscriber, marked fromSelf on the publisher', async () => {
    const got: Array<[string, unknown, boolean]> = [];
    const offA = await stores.store.bus.subscribe('t_once', (p, m) => got.push(['a', p, m.fromSelf]));
    const offB = await other.bus.subscribe('t_once', (p, m) => got.push(['b', p, m.fromSelf]));
    await stores.store.bus.publish('t_once', { revision: 'abc' });
    // SQLite runs one hub process: its bus is in-process, so a second store on the same file hears nothing
    const expected: Array<[string, unknown, boolean]> = backend === 'postgres' ? [['a', { revision: 'abc' }, true], ['b', { revision: 'abc' }, false]] : [['a', { revision: 'abc' }, true]];
    await waitFor(() => got.length >= expected.length, 5000, 'bus messages');
    // a message published after is the fence: nothing more of the first arrives before it
    await stores.store.bus.publish('t_once', 'end');
    await waitFor(() => got.some(([w, p]) => w === 'a' && p === 'end'), 5000, 'the fence message');
    expect(got.filter(([, p]) => p !== 'end').sort()).toEqual(expected);
    await offA();
    await offB();
  });

  it('stops delivering after unsubscribe', async () => {
    const got: unknown[] = [];
    const fence: unknown[] = [];
    const off = await stores.store.bus.subscribe('t_off', (p) => got.push(p));
    await stores.store.bus.subscribe('t_off', (p) => fence.push(p));
    await off();
    await stores.store.bus.publish('t_off', 1);
    await waitFor(() => fence.length === 1, 5000, 'the other subscriber');
    expect(got).toEqual([]);
  });
});

// PostgreSQL only: its listener's own connection (SQLite's bus is in-process).
describeIf(postgresAvailable(), 'PostgreSQL', 'apt-get install postgresql (or set FOUNDRY_TEST_PG_URL)')('bus reconnect [postgres]', () => {
  let stores: TestHubStores;
  beforeAll(async () => (stores = await openTestHubStore('postgres')));
  afterAll(async () => stores?.close());

  it('listens again after its connection is killed', async () => {
    const errors: unknown[] = [];
    // the store's location is its URL without a password: the test server has none
    const bus = new PgBus({ url: stores.store.location, sql: stores.store.sql, retryMs: 50, onError: (e) => errors.push(e) });
    try {
      const got: unknown[] = [];
      await bus.subscribe('t_reconnect', (p) => got.push(p));
      expect(bus.listening).toBe(true);
      const killed = await stores.store.sql.all("SELECT pg_terminate_backend(pid) AS k FROM pg_stat_activity WHERE application_name = 'foundry-hub-bus' AND datname = current_database()");
      expect(killed.length).toBe(1);
      await waitFor(() => errors.length > 0, 5000, 'the lost connection');
      await waitFor(() => bus.listening, 5000, 'the listener back');
      await stores.store.bus.publish('t_reconnect', 'after');
      await waitFor(() => got.length === 1, 5000, 'a message after reconnecting');
      expect(got).toEqual(['after']);
    } finally {
      await bus.close();
    }
  });
});

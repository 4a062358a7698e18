/**
 * "Sync now" reaches the agents of every replica: two hub apps on one PostgreSQL database, an agent on
 * each; a revision learnt by replica A makes both agents receive exactly one sync-now (A's own broadcast,
 * B's through the bus).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../hub/app.js';
import { HubStore } from '../../hub/store/hub-store.js';
import { createTestDatabase, postgresAvailable } from '../support/postgres.js';
import { describeIf } from '../support/requires.js';
import { frame, rawClient, waitFor, type RawClient } from './support.js';

interface Replica {
  app: FastifyInstance;
  store: HubStore;
  url: string;
}

async function startReplica(dbUrl: string): Promise<Replica> {
  const store = await HubStore.open(dbUrl, { poolSize: 4 });
  const app = await buildApp({ store });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  return { app, store, url: `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}` };
}

const syncNows = (c: RawClient): unknown[] => c.frames.filter((f) => f.type === 'command' && (f.body as { name?: string }).name === 'sync-now').map((f) => (f.body as { revision?: string }).revision);

describeIf(postgresAvailable(), 'PostgreSQL', 'apt-get install postgresql (or set FOUNDRY_TEST_PG_URL)')('sync-now across replicas', () => {
  let db: { url: string; drop(): Promise<void> };
  const replicas: Replica[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
    replicas.push(await startReplica(db.url));
    replicas.push(await startReplica(db.url));
  });
  afterAll(async () => {
    for (const r of replicas) {
      await r.app.close();
      await r.store.close();
    }
    await db?.drop();
  });

  it('reaches agents connected to the other replica, once each', async () => {
    const [a, b] = replicas as [Replica, Replica];
    const clients: RawClient[] = [];
    for (const [r, node] of [[a, 'gpu-a'], [b, 'gpu-b']] as const) {
      const c = await rawClient(r.url, await a.store.issueNodeCredential(node));
      c.send(frame('hello', { node, agentVersion: 'test', appliedRevision: null, inventory: { gpus: [], resources: [] } }));
      await waitFor(() => r.app.hub.gateway.connectedNodes().includes(node), 5000, `${node} connected`);
      clients.push(c);
    }
    expect(a.app.hub.notifyRevision('feedface00', 'refs/heads/main', 'push', 'admin:test')).toBe(1);
    await waitFor(() => syncNows(clients[1]!).length > 0, 5000, 'sync-now on the other replica');
    // a second revision is the fence: once it arrived everywhere, no late duplicate of the first can follow
    a.app.hub.notifyRevision('feedface01', 'refs/heads/main', 'push', 'admin:test');
    await waitFor(() => clients.every((c) => syncNows(c).includes('feedface01')), 5000, 'the second revision everywhere');
    expect(syncNows(clients[0]!)).toEqual(['feedface00', 'feedface01']);
    expect(syncNows(clients[1]!)).toEqual(['feedface00', 'feedface01']);
    clients.forEach((c) => c.ws.close());
  });
});

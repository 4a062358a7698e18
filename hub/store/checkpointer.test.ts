import { afterEach, describe, expect, it } from 'vitest';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { HubStore } from './hub-store.js';
import { startCheckpointer } from './checkpointer.js';
import { tempDir, waitFor } from '../../test/hub/support.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function openStore(): { store: HubStore; path: string } {
  const dir = tempDir('fc-ckpt-');
  dirs.push(dir);
  const path = join(dir, 'hub.db');
  return { store: new HubStore(path), path };
}

function fill(store: HubStore, n: number): void {
  const insert = store.db.prepare('INSERT INTO usage_records (node, seq, payload, received_at) VALUES (?, ?, ?, ?)');
  store.db.transaction(() => {
    for (let i = 1; i <= n; i++) insert.run('n1', i, JSON.stringify({ pad: 'x'.repeat(500), i }), new Date().toISOString());
  })();
}

describe('background WAL checkpoints', () => {
  it('turn automatic checkpoints off and copy the WAL into the database file from a worker thread', async () => {
    const { store, path } = openStore();
    const cp = startCheckpointer(store.db, 50);
    expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const before = statSync(path).size;
    fill(store, 2000);
    // Nothing on this thread checkpoints (automatic checkpoints are off): only the worker can grow the file.
    await waitFor(() => statSync(path).size > before + 500_000, 5000, 'the worker to copy the WAL into hub.db');
    await cp.stop();
    expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    expect(store.db.prepare('SELECT count(*) AS n FROM usage_records').get()).toEqual({ n: 2000 });
    await store.close();
  });

  it('without the worker the same writes stay in the WAL (the check above can fail)', async () => {
    const { store, path } = openStore();
    store.db.pragma('wal_autocheckpoint = 0');
    const before = statSync(path).size;
    fill(store, 2000);
    expect(statSync(path).size).toBe(before);
    await store.close();
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubStore } from './hub-store.js';
import { startCheckpointer } from './checkpointer.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fill(store: HubStore, from: number, n: number): void {
  store.db.transaction(() => {
    for (let i = from; i < from + n; i++) store.db.prepare('INSERT INTO usage_records (node, seq, payload, received_at) VALUES (?, ?, ?, ?)').run('n1', i, JSON.stringify({ pad: 'x'.repeat(500), i }), new Date().toISOString());
  })();
}

const waitUntil = async (check: () => boolean, ms: number): Promise<boolean> => {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return check();
};

describe('background WAL checkpoints', () => {
  it('turn automatic checkpoints off and copy the WAL into the database file from a worker thread', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fc-ckpt-'));
    dirs.push(dir);
    const path = join(dir, 'hub.db');
    const store = new HubStore(path);
    const cp = startCheckpointer(store.db, path, 50);
    expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const before = statSync(path).size;
    fill(store, 1, 2000);
    // Nothing on this thread checkpoints (automatic checkpoints are off): only the worker can grow the file.
    expect(await waitUntil(() => statSync(path).size > before + 500_000, 5000)).toBe(true);
    await cp.stop();
    expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    expect(store.db.prepare('SELECT count(*) AS n FROM usage_records').get()).toEqual({ n: 2000 });
    store.close();
  });

  it('without the worker the same writes stay in the WAL (the check above can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fc-ckpt-'));
    dirs.push(dir);
    const path = join(dir, 'hub.db');
    const store = new HubStore(path);
    store.db.pragma('wal_autocheckpoint = 0');
    const before = statSync(path).size;
    fill(store, 1, 2000);
    expect(statSync(path).size).toBe(before);
    store.close();
  });
});

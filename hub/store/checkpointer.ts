/**
 * WAL checkpoints off the event loop. better-sqlite3 is synchronous: with SQLite's automatic checkpoint,
 * the commit that crosses 1,000 WAL pages copies them into the database file and waits for the disk on
 * the hub's only thread, which is where the longest usage acks came from under load. The running hub
 * turns automatic checkpoints off and has a worker thread, with its own connection, run a PASSIVE
 * checkpoint every second (it never blocks writers). If the worker dies, automatic checkpoints come back.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';

// The worker is a CommonJS script given as text, so it runs the same from dist/ and from the TypeScript
// sources under the test runner; it loads the same better-sqlite3 the hub uses.
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (err) { parentPort.postMessage({ error: String(err && err.message || err) }); }
}, workerData.intervalMs);
parentPort.on('message', (m) => { if (m === 'stop') { clearInterval(timer); db.close(); parentPort.close(); } });
`;

/** A running background checkpointer. */
export interface Checkpointer {
  /** Stops the worker (its connection closes) and restores automatic checkpoints. */
  stop(): Promise<void>;
}

/** Starts checkpointing the file of `db` (the hub's connection) from a worker thread every `intervalMs`. */
export function startCheckpointer(db: Database.Database, intervalMs = 1000, onError: (message: string) => void = () => undefined): Checkpointer {
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path: db.name, intervalMs, module } });
  db.pragma('wal_autocheckpoint = 0');
  let stopped = false;
  const restore = (): void => {
    if (db.open) db.pragma('wal_autocheckpoint = 1000');
  };
  worker.on('message', (m: { error?: string }) => m.error !== undefined && onError(m.error));
  // A worker that throws also exits: the exit handler brings automatic checkpoints back.
  worker.on('error', (err) => onError(err.message));
  worker.on('exit', () => {
    if (!stopped) restore();
  });
  worker.unref();
  return {
    stop: async () => {
      if (stopped) return;
      stopped = true;
      // Keep the process alive while the worker closes its connection (it is unref'd while it runs).
      worker.ref();
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage('stop');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)))]);
      clearTimeout(timer);
      await worker.terminate();
      restore();
    },
  };
}

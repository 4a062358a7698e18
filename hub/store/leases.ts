/**
 * Work that must happen on one replica at a time: `withLock(name, fn)` runs `fn` while holding the lock
 * `name` across every hub replica of the database.
 *
 * - PostgreSQL: an in-process mutex, then a session advisory lock (`pg_advisory_lock(class, hashtext(name))`) on one pooled client,
 *   held from before `fn` starts until after it settles, then unlocked and the client returned. If that
 *   client's connection dies meanwhile, the server frees the lock and another replica may enter while `fn`
 *   still runs: the lock only avoids duplicated work, it is not a fence. What `fn` writes must carry its
 *   own fence: a Git push is a compare-and-swap (a non-fast-forward push fails and is redone on the new
 *   tip), a transaction re-reads what it changes.
 * - SQLite (one process): an in-process mutex per name.
 */
import type { Pool } from 'pg';

/** Class id of the hub's named advisory locks (the key within it is the name's hash). */
export const LEASE_LOCK_CLASS = 23_003;

/** Named locks shared by the replicas of one database. */
export interface HubLeases {
  /** Runs `fn` holding the lock `name` (waits for it); the lock is freed when `fn` settles, and its result or error returned. */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

/** Named mutexes in this process (the SQLite hub: there is only one process). */
export class LocalLeases implements HubLeases {
  private readonly tails = new Map<string, Promise<unknown>>();

  async withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const before = this.tails.get(name) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(fn);
    const tail = run.catch(() => undefined);
    this.tails.set(name, tail);
    try {
      return await run;
    } finally {
      if (this.tails.get(name) === tail) this.tails.delete(name);
    }
  }
}

/**
 * Advisory locks on a PostgreSQL pool. Callers in this process queue on an in-process mutex first, so at
 * most one pooled client per name waits on the server: waiters holding every client of the pool would
 * starve the holder, whose `fn` needs the pool too.
 */
export class PgLeases implements HubLeases {
  private readonly local = new LocalLeases();

  constructor(private readonly pool: Pool) {}

  withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.local.withLock(name, () => this.serverLock(name, fn));
  }

  private async serverLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [LEASE_LOCK_CLASS, name]).catch((err: unknown) => {
        broken = true;
        throw err;
      });
      try {
        return await fn();
      } finally {
        // a failed unlock means a dead connection: the server has freed the lock with it
        await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LEASE_LOCK_CLASS, name]).catch(() => (broken = true));
      }
    } finally {
      client.release(broken);
    }
  }
}

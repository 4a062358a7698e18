/**
 * The Sql interface over one better-sqlite3 connection (the embedded store). Statements run synchronously
 * and are handed back as settled promises; a transaction holds the connection from BEGIN to COMMIT, so
 * statements issued meanwhile from elsewhere in the hub wait for it instead of landing inside it.
 */
import type Database from 'better-sqlite3';
import type { Sql, SqlDurability, SqlExecutor, SqlParam, SqlRunResult } from './sql.js';

/** Prepared statements kept per connection (the hub's statements are a few hundred texts at most). */
const CACHE_LIMIT = 1000;

/** Sql over better-sqlite3; the caller owns the connection's pragmas (WAL, synchronous=FULL, busy_timeout). */
export class SqliteSql implements Sql {
  readonly dialect = 'sqlite' as const;
  private readonly cache = new Map<string, Database.Statement>();
  /** Settles when the last queued transaction has ended. */
  private tail: Promise<void> = Promise.resolve();
  /** Transactions queued or open: plain statements wait for them. */
  private queued = 0;
  private readonly direct: SqlExecutor;

  constructor(readonly db: Database.Database) {
    this.direct = { dialect: 'sqlite', all: (t, p) => this.now(() => this.allSync(t, p)), get: (t, p) => this.now(() => this.getSync(t, p)), run: (t, p) => this.now(() => this.runSync(t, p)), script: (t) => this.now(() => void this.db.exec(t)) };
  }

  all<T = Record<string, unknown>>(text: string, params: readonly SqlParam[] = []): Promise<T[]> {
    return this.outside(() => this.allSync<T>(text, params));
  }

  get<T = Record<string, unknown>>(text: string, params: readonly SqlParam[] = []): Promise<T | undefined> {
    return this.outside(() => this.getSync<T>(text, params));
  }

  run(text: string, params: readonly SqlParam[] = []): Promise<SqlRunResult> {
    return this.outside(() => this.runSync(text, params));
  }

  async tx<T>(fn: (tx: SqlExecutor) => Promise<T>, options: { durability?: SqlDurability } = {}): Promise<T> {
    const before = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    this.queued += 1;
    try {
      await before;
      const relaxed = options.durability === 'relaxed';
      if (relaxed) this.db.pragma('synchronous = NORMAL');
      try {
        this.db.exec('BEGIN IMMEDIATE');
        try {
          const result = await fn(this.direct);
          this.db.exec('COMMIT');
          return result;
        } catch (err) {
          if (this.db.inTransaction) this.db.exec('ROLLBACK');
          throw err;
        }
      } finally {
        if (relaxed) this.db.pragma('synchronous = FULL');
      }
    } finally {
      this.queued -= 1;
      release();
    }
  }

  async script(text: string): Promise<void> {
    await this.outside(() => this.db.exec(text));
  }

  async close(): Promise<void> {
    await this.tail;
    this.cache.clear();
  }

  /** Runs a plain statement now, or after the transactions queued before it. */
  private outside<T>(fn: () => T): Promise<T> {
    if (this.queued === 0) return this.now(fn);
    return this.tail.then(() => this.outside(fn));
  }

  private now<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  private statement(text: string): Database.Statement {
    let s = this.cache.get(text);
    if (s === undefined) {
      s = this.db.prepare(text);
      if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(text, s);
    }
    return s;
  }

  private allSync<T>(text: string, params: readonly SqlParam[] = []): T[] {
    return this.statement(text).all(...params) as T[];
  }

  private getSync<T>(text: string, params: readonly SqlParam[] = []): T | undefined {
    return this.statement(text).get(...params) as T | undefined;
  }

  private runSync(text: string, params: readonly SqlParam[] = []): SqlRunResult {
    return { changes: this.statement(text).run(...params).changes };
  }
}

/**
 * The agent's durable outbox: usage records and status transitions wait here, on disk, until the hub
 * acknowledges them. Each entry gets its per-node sequence number in the same SQLite commit that stores
 * it (AUTOINCREMENT: strictly increasing, never reused, even after deletes or a crash).
 *
 * A new outbox file starts its sequence at the creation time in microseconds, not at 1: the hub drops a
 * (node, seq) it already has as a resend, so an agent whose state dir was wiped (a reinstalled disk) must
 * never reuse the numbers of its previous life. Time-based starts are above every earlier seq as long as
 * the agent averaged under a million entries a second and the clock did not jump back; the largest start
 * (year 2255) still fits in 2^53.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FoundryError } from '../../common/errors.js';

/** What an outbox entry carries. */
export type OutboxKind = 'usage' | 'status';

/** One entry waiting for the hub's ack. */
export interface OutboxEntry {
  seq: number;
  kind: OutboxKind;
  body: unknown;
}

/** File name of the outbox in the agent's state dir. */
export const OUTBOX_FILE = 'outbox.db';

/** A file-backed outbox (one SQLite file in the state dir). */
export class Outbox {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly after: Database.Statement;
  private readonly remove: Database.Statement;

  constructor(stateDir: string, options: { now?: () => number } = {}) {
    mkdirSync(stateDir, { recursive: true });
    const path = join(stateDir, OUTBOX_FILE);
    try {
      this.db = new Database(path);
      this.db.pragma('journal_mode = WAL');
      // FULL: an entry must survive power loss once enqueue returned (it may be money).
      this.db.pragma('synchronous = FULL');
      const now = options.now ?? Date.now;
      this.db.transaction(() => {
        const exists = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox'").get() !== undefined;
        if (exists) return;
        this.db.exec('CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL)');
        const start = Math.floor(now()) * 1000;
        this.db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('outbox', ?)").run(start);
        this.db.exec('CREATE TABLE outbox_start (seq INTEGER NOT NULL)');
        this.db.prepare('INSERT INTO outbox_start (seq) VALUES (?)').run(start);
      })();
    } catch (err) {
      throw new FoundryError('STORE', 'cannot open the agent outbox', { resource: path, cause: err });
    }
    this.insert = this.db.prepare('INSERT INTO outbox (kind, body, created_at) VALUES (?, ?, ?)');
    this.after = this.db.prepare('SELECT seq, kind, body FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?');
    this.remove = this.db.prepare('DELETE FROM outbox WHERE seq = ?');
  }

  /** Stores an entry durably and returns its sequence number. */
  enqueue(kind: OutboxKind, body: unknown, now = Date.now()): number {
    return Number(this.insert.run(kind, JSON.stringify(body), now).lastInsertRowid);
  }

  /** Up to `limit` entries with seq greater than `afterSeq`, ascending. */
  pendingAfter(afterSeq: number, limit: number): OutboxEntry[] {
    return (this.after.all(afterSeq, limit) as Array<{ seq: number; kind: OutboxKind; body: string }>).map((r) => ({ seq: r.seq, kind: r.kind, body: JSON.parse(r.body) as unknown }));
  }

  /** Deletes acknowledged entries; unknown seqs (already deleted) are ignored. */
  ack(seqs: readonly number[]): void {
    this.db.transaction(() => seqs.forEach((s) => this.remove.run(s)))();
  }

  /** Number of entries waiting. */
  size(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;
  }

  /** Epoch ms the oldest waiting entry was stored at; undefined when the outbox is empty. */
  oldestCreatedAt(): number | undefined {
    const row = this.db.prepare('SELECT created_at FROM outbox ORDER BY seq LIMIT 1').get() as { created_at: number } | undefined;
    return row?.created_at;
  }

  /** The first seq this outbox file assigned or will assign (1 for a file made before time-based starts). */
  firstSeq(): number {
    const hasStart = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox_start'").get() !== undefined;
    const row = hasStart ? (this.db.prepare('SELECT seq FROM outbox_start').get() as { seq: number } | undefined) : undefined;
    return (row?.seq ?? 0) + 1;
  }

  /** Highest seq ever assigned (firstSeq() - 1 when none yet). */
  lastSeq(): number {
    const row = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").get() as { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  /** Closes the file. */
  close(): void {
    if (this.db.open) this.db.close();
  }
}

/**
 * The agent's durable outbox: usage records and status transitions wait here, on disk, until the hub
 * acknowledges them. Each entry gets its per-node sequence number in the same SQLite commit that stores
 * it (AUTOINCREMENT: strictly increasing, never reused, even after deletes or a crash).
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

  constructor(stateDir: string) {
    mkdirSync(stateDir, { recursive: true });
    const path = join(stateDir, OUTBOX_FILE);
    try {
      this.db = new Database(path);
      this.db.pragma('journal_mode = WAL');
      // FULL: an entry must survive power loss once enqueue returned (it may be money).
      this.db.pragma('synchronous = FULL');
      this.db.exec('CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL)');
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

  /** Highest seq ever assigned (0 when none). */
  lastSeq(): number {
    const row = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").get() as { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  /** Closes the file. */
  close(): void {
    if (this.db.open) this.db.close();
  }
}

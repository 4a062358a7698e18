/** The refused usage records as admins see them (table usage_refusals, written by HubStore.ingest). */
import type Database from 'better-sqlite3';

/** One refused record: who sent it, why it was refused, and what it said (truncated to 4 KiB). */
export interface RefusalRow {
  node: string;
  seq: number;
  reason: string;
  field: string | null;
  message: string;
  /** The record as received (JSON text, at most 4096 characters). */
  record: string;
  receivedAt: string;
}

/** Filter of listRefusals. */
export interface RefusalFilter {
  node?: string;
  reason?: string;
  /** At most this many, newest first (default 100, at most 1000). */
  limit?: number;
}

/** Refused usage records, newest first, with how many there are per reason (all time). */
export function listRefusals(db: Database.Database, f: RefusalFilter = {}): { refused: RefusalRow[]; byReason: Record<string, number> } {
  const limit = Math.min(Math.max(f.limit ?? 100, 1), 1000);
  const rows = db
    .prepare('SELECT node, seq, reason, field, message, record, received_at AS receivedAt FROM usage_refusals WHERE (@node IS NULL OR node = @node) AND (@reason IS NULL OR reason = @reason) ORDER BY received_at DESC, node, seq DESC LIMIT @limit')
    .all({ node: f.node ?? null, reason: f.reason ?? null, limit }) as RefusalRow[];
  const counts = db.prepare('SELECT reason, COUNT(*) AS n FROM usage_refusals GROUP BY reason ORDER BY reason').all() as Array<{ reason: string; n: number }>;
  return { refused: rows, byReason: Object.fromEntries(counts.map((c) => [c.reason, c.n])) };
}

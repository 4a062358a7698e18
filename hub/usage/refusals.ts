/** The refused usage records as admins see them (table usage_refusals, written by HubStore.ingest). */
import type Database from 'better-sqlite3';

// The record is stored truncated to 4 KiB: only a whole JSON text is read (json_extract fails on a broken
// one), and only a string workspace (a forged record may hold anything there).
const WORKSPACE = "CASE WHEN json_valid(record) THEN CASE WHEN json_type(record, '$.workspace') = 'text' THEN json_extract(record, '$.workspace') END END";

/** One refused record: who sent it, why it was refused, and what it said (truncated to 4 KiB). */
export interface RefusalRow {
  node: string;
  seq: number;
  /** The record's workspace (null when the record is not JSON, was truncated, or names none). */
  workspace: string | null;
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
    .prepare(`SELECT node, seq, ${WORKSPACE} AS workspace, reason, field, message, record, received_at AS receivedAt FROM usage_refusals WHERE (@node IS NULL OR node = @node) AND (@reason IS NULL OR reason = @reason) ORDER BY received_at DESC, node, seq DESC LIMIT @limit`)
    .all({ node: f.node ?? null, reason: f.reason ?? null, limit }) as RefusalRow[];
  const counts = db.prepare('SELECT reason, COUNT(*) AS n FROM usage_refusals GROUP BY reason ORDER BY reason').all() as Array<{ reason: string; n: number }>;
  return { refused: rows, byReason: Object.fromEntries(counts.map((c) => [c.reason, c.n])) };
}

/** Refusals of one node received since a time, counted by reason. */
export interface RecentRefusals {
  node: string;
  total: number;
  byReason: Record<string, number>;
}

/** Refusals received at or after `sinceIso` (an ISO instant, as received_at is stored), per node, nodes by name. */
export function refusalsSince(db: Database.Database, sinceIso: string): RecentRefusals[] {
  const rows = db.prepare('SELECT node, reason, COUNT(*) AS n FROM usage_refusals WHERE received_at >= ? GROUP BY node, reason ORDER BY node, reason').all(sinceIso) as Array<{ node: string; reason: string; n: number }>;
  const out = new Map<string, RecentRefusals>();
  for (const r of rows) {
    const e = out.get(r.node) ?? { node: r.node, total: 0, byReason: {} };
    e.total += r.n;
    e.byReason[r.reason] = r.n;
    out.set(r.node, e);
  }
  return [...out.values()];
}

/**
 * Reads of stored usage beside billing: refused records (usage_refusals, written by HubStore.ingest) for
 * admins, the newest receipts per workspace for the metrics, and a node's enrollment time for the
 * admission gate. The ingest write path stays in HubStore.
 */
import type { Sql } from './sql/sql.js';
import { jsonString } from './billing-repo.js';

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

/** Which refusals to list. */
export interface RefusalQuery {
  node?: string;
  reason?: string;
  /** At most this many, newest first. */
  limit: number;
}

/** A usage record's names as stored (null unless a JSON string), for the receipts metric. */
export interface ReceiptRow {
  id: number;
  tenant: string | null;
  workspace: string | null;
  receivedAt: string;
}

/** The usage repository. */
export interface UsageRepo {
  /** Refused records, newest first (received_at, then node, then seq descending). */
  refusals(q: RefusalQuery): Promise<RefusalRow[]>;
  /** How many refused records there are per reason (all time). */
  refusalCounts(): Promise<Record<string, number>>;
  /** Refusals received at or after `sinceIso`, counted per node and reason, by node then reason. */
  refusalCountsSince(sinceIso: string): Promise<Array<{ node: string; reason: string; n: number }>>;
  /** Usage records stored after row `afterId`, by id (at most `limit`). */
  receiptsAfter(afterId: number, limit?: number): Promise<ReceiptRow[]>;
  /** When `node` was enrolled (nodes.created_at, ISO), or undefined when there is no such node. */
  enrolledAt(node: string): Promise<string | undefined>;
}

// The record is stored truncated to 4 KiB: only a whole JSON text counts, and only a string workspace
// (a forged record may hold anything there). Parsed here, the same way on both backends.
function workspaceOf(record: string): string | null {
  try {
    const v = JSON.parse(record) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
    const w = (v as Record<string, unknown>).workspace;
    return typeof w === 'string' ? w : null;
  } catch {
    return null;
  }
}

/** UsageRepo over the Sql interface. */
export class SqlUsageRepo implements UsageRepo {
  constructor(private readonly sql: Sql) {}

  async refusals(q: RefusalQuery): Promise<RefusalRow[]> {
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (q.node !== undefined) {
      where.push('node = ?');
      params.push(q.node);
    }
    if (q.reason !== undefined) {
      where.push('reason = ?');
      params.push(q.reason);
    }
    const rows = await this.sql.all<Omit<RefusalRow, 'workspace'>>(
      `SELECT node, seq, reason, field, message, record, received_at AS "receivedAt" FROM usage_refusals ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY received_at DESC, node, seq DESC LIMIT ?`,
      [...params, q.limit],
    );
    return rows.map((r) => ({ node: r.node, seq: r.seq, workspace: workspaceOf(r.record), reason: r.reason, field: r.field, message: r.message, record: r.record, receivedAt: r.receivedAt }));
  }

  async refusalCounts(): Promise<Record<string, number>> {
    const rows = await this.sql.all<{ reason: string; n: number }>('SELECT reason, COUNT(*) AS n FROM usage_refusals GROUP BY reason ORDER BY reason');
    return Object.fromEntries(rows.map((r) => [r.reason, r.n]));
  }

  refusalCountsSince(sinceIso: string): Promise<Array<{ node: string; reason: string; n: number }>> {
    return this.sql.all('SELECT node, reason, COUNT(*) AS n FROM usage_refusals WHERE received_at >= ? GROUP BY node, reason ORDER BY node, reason', [sinceIso]);
  }

  receiptsAfter(afterId: number, limit = 10_000): Promise<ReceiptRow[]> {
    const d = this.sql.dialect;
    return this.sql.all(
      `SELECT id, ${jsonString(d, 'payload', 'tenant')} AS tenant, ${jsonString(d, 'payload', 'workspace')} AS workspace, received_at AS "receivedAt" FROM usage_records WHERE id > ? ORDER BY id LIMIT ?`,
      [afterId, limit],
    );
  }

  async enrolledAt(node: string): Promise<string | undefined> {
    return (await this.sql.get<{ created_at: string }>('SELECT created_at FROM nodes WHERE name = ?', [node]))?.created_at;
  }
}

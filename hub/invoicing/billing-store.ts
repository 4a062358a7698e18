/** Billing tables: closed months with their frozen invoices, usage rows read per tenant with their late assignment. */
import type Database from 'better-sqlite3';
import type { StoredUsage } from './usage-intervals.js';

/** A frozen invoice as stored at close. */
export interface FrozenInvoice {
  json: string;
  csv: string;
}

interface UsageSqlRow {
  node: string;
  seq: number;
  payload: string;
  received_at: string;
  late: string | null;
}

// the late assignment persisted at arrival (migration 35), as a JSON object used month → invoice month
const LATE = '(SELECT json_group_object(l.used_month, l.invoice_month) FROM usage_late l WHERE l.usage_id = u.id) AS late';
const FROM = "COALESCE(json_extract(u.payload, '$.from'), json_extract(u.payload, '$.fromMs'))";

function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text; // reported as "payload is not an object" by the checks
  }
}

function toStored(r: UsageSqlRow): StoredUsage {
  return { node: r.node, seq: r.seq, payload: parsePayload(r.payload), receivedAt: r.received_at, lateTo: r.late === null ? {} : (JSON.parse(r.late) as Record<string, string>) };
}

/** Reads and writes the billing tables of the hub store's database. */
export class BillingStore {
  constructor(private readonly db: Database.Database) {}

  /** Runs `fn` in one write transaction (BEGIN IMMEDIATE): no usage row can slip in between what it reads and writes. */
  atomically<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** Closed months: "YYYY-MM" → epoch ms they were closed at. */
  closedMonths(): Map<string, number> {
    const rows = this.db.prepare('SELECT month, closed_at_ms FROM billing_closed_months ORDER BY month').all() as Array<{ month: string; closed_at_ms: number }>;
    return new Map(rows.map((r) => [r.month, r.closed_at_ms]));
  }

  /** Closed months with who closed them. */
  closedList(): Array<{ month: string; closedAt: string; closedBy: string }> {
    const rows = this.db.prepare('SELECT month, closed_at_ms, closed_by FROM billing_closed_months ORDER BY month').all() as Array<{ month: string; closed_at_ms: number; closed_by: string }>;
    return rows.map((r) => ({ month: r.month, closedAt: new Date(r.closed_at_ms).toISOString(), closedBy: r.closed_by }));
  }

  /** Closes a month and stores its invoices in one transaction. */
  close(month: string, atMs: number, by: string, invoices: ReadonlyArray<{ tenant: string } & FrozenInvoice>): void {
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO billing_closed_months (month, closed_at_ms, closed_by) VALUES (?, ?, ?)').run(month, atMs, by);
      const put = this.db.prepare('INSERT INTO billing_invoices (tenant, month, invoice_json, invoice_csv) VALUES (?, ?, ?, ?)');
      for (const inv of invoices) put.run(inv.tenant, month, inv.json, inv.csv);
    })();
  }

  /** The frozen invoice of a tenant for a closed month, or undefined. */
  frozen(tenant: string, month: string): FrozenInvoice | undefined {
    const r = this.db.prepare('SELECT invoice_json, invoice_csv FROM billing_invoices WHERE tenant = ? AND month = ?').get(tenant, month) as { invoice_json: string; invoice_csv: string } | undefined;
    return r === undefined ? undefined : { json: r.invoice_json, csv: r.invoice_csv };
  }

  /**
   * Usage rows of a tenant (every tenant when undefined) whose time starts before `beforeMs`, with their
   * late assignment. Rows whose `from` is not a number are not read here: they cannot be rated and are
   * reported from receivedBetween().
   */
  usage(tenant: string | undefined, beforeMs: number): StoredUsage[] {
    const sql = `SELECT u.node, u.seq, u.payload, u.received_at, ${LATE} FROM usage_records u WHERE ${tenant === undefined ? '1' : "json_extract(u.payload, '$.tenant') = @tenant"}
      AND typeof(${FROM}) IN ('integer', 'real') AND ${FROM} < @before ORDER BY u.node, u.seq`;
    return (this.db.prepare(sql).all({ tenant, before: beforeMs }) as UsageSqlRow[]).map(toStored);
  }

  /** Usage rows received in [fromIso, toIso) (every tenant when undefined): where records that cannot be rated are reported. */
  receivedBetween(tenant: string | undefined, fromIso: string, toIso: string): StoredUsage[] {
    const sql = `SELECT u.node, u.seq, u.payload, u.received_at, NULL AS late FROM usage_records u WHERE ${tenant === undefined ? '1' : "json_extract(u.payload, '$.tenant') = @tenant"}
      AND u.received_at >= @from AND u.received_at < @to ORDER BY u.node, u.seq`;
    return (this.db.prepare(sql).all({ tenant, from: fromIso, to: toIso }) as UsageSqlRow[]).map(toStored);
  }

  /** Tenants that have usage records (tenant names that are text). */
  tenantsWithUsage(): string[] {
    return (this.db.prepare("SELECT DISTINCT json_extract(payload, '$.tenant') AS t FROM usage_records WHERE typeof(t) = 'text' ORDER BY t").all() as Array<{ t: string }>).map((r) => r.t);
  }
}

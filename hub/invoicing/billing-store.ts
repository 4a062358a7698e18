/** Billing tables: closed months with their frozen invoices, and usage rows read per tenant. */
import type Database from 'better-sqlite3';
import type { StoredUsage } from './usage-intervals.js';

/** A frozen invoice as stored at close. */
export interface FrozenInvoice {
  json: string;
  csv: string;
}

/** Reads and writes the billing tables of the hub store's database. */
export class BillingStore {
  constructor(private readonly db: Database.Database) {}

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

  /** Usage rows of a tenant (every tenant when undefined) that start before `beforeMs`. */
  usage(tenant: string | undefined, beforeMs: number): StoredUsage[] {
    const sql = `SELECT node, seq, payload, received_at FROM usage_records WHERE ${tenant === undefined ? '1' : "json_extract(payload, '$.tenant') = @tenant"} AND COALESCE(json_extract(payload, '$.from'), json_extract(payload, '$.fromMs')) < @before ORDER BY node, seq`;
    const rows = this.db.prepare(sql).all({ tenant, before: beforeMs }) as Array<{ node: string; seq: number; payload: string; received_at: string }>;
    return rows.map((r) => ({ node: r.node, seq: r.seq, payload: JSON.parse(r.payload) as unknown, receivedAt: r.received_at }));
  }

  /** Tenants that have usage records. */
  tenantsWithUsage(): string[] {
    return (this.db.prepare("SELECT DISTINCT json_extract(payload, '$.tenant') AS t FROM usage_records WHERE t IS NOT NULL ORDER BY t").all() as Array<{ t: string }>).map((r) => r.t);
  }
}

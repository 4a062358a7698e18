/**
 * Billing tables: closed months with their frozen invoices, and the usage rows billing reads per tenant
 * with the late assignment each got when it arrived (usage_late, filled by migration 35's trigger).
 * The same rows, in the same order and with the same types, on SQLite and PostgreSQL: an invoice
 * rendered from either is the same document.
 */
import type { StoredUsage } from '../invoicing/usage-intervals.js';
import type { Sql, SqlDialect, SqlExecutor } from './sql/sql.js';
import { jsonText } from './sql/sql.js';

/** A frozen invoice as stored at close. */
export interface FrozenInvoice {
  json: string;
  csv: string;
}

/** A closed month as the API lists it. */
export interface ClosedMonth {
  month: string;
  closedAt: string;
  closedBy: string;
}

/** What billing reads, inside a close's transaction or outside. */
export interface BillingReads {
  /** Closed months: "YYYY-MM" → epoch ms they were closed at. */
  closedMonths(): Promise<Map<string, number>>;
  /** Closed months with who closed them, by month. */
  closedList(): Promise<ClosedMonth[]>;
  /** The frozen invoice of a tenant for a closed month, or undefined. */
  frozen(tenant: string, month: string): Promise<FrozenInvoice | undefined>;
  /**
   * Usage rows of a tenant (every tenant when undefined) whose time starts before `beforeMs`, with their
   * late assignment, by node and seq. Rows whose `from` is not a JSON number are left out: they cannot
   * be rated and are reported from receivedBetween().
   */
  usage(tenant: string | undefined, beforeMs: number): Promise<StoredUsage[]>;
  /** Usage rows received in [fromIso, toIso) (every tenant when undefined), by node and seq, without late assignment. */
  receivedBetween(tenant: string | undefined, fromIso: string, toIso: string): Promise<StoredUsage[]>;
  /** Tenants named (as JSON strings) by usage records, sorted byte-wise. */
  tenantsWithUsage(): Promise<string[]>;
}

/** The reads plus the write of a close, all in one transaction. */
export interface BillingCloseTx extends BillingReads {
  /** Records `month` as closed at `atMs` by `by`, with its invoices; fails when the month is closed already. */
  close(month: string, atMs: number, by: string, invoices: ReadonlyArray<{ tenant: string } & FrozenInvoice>): Promise<void>;
}

/** The billing repository. */
export interface BillingRepo extends BillingReads {
  /**
   * Runs `fn` in one write transaction during which no usage record can be stored: what `fn` reads is
   * exactly what the invoices it freezes bill, and a record stored after its commit sees the month closed
   * (migration 35 assigns its late time to an open month). Closes run one at a time.
   */
  closing<T>(fn: (tx: BillingCloseTx) => Promise<T>): Promise<T>;
}

interface UsageSqlRow {
  node: string;
  seq: number;
  payload: string;
  received_at: string;
  late: string | null;
}

/** `key` of the JSON text in `column` when it is a JSON string, else NULL (numbers too: SQLite and PostgreSQL then agree). */
export function jsonString(dialect: SqlDialect, column: string, key: string): string {
  const text = jsonText(dialect, column, key);
  return dialect === 'sqlite' ? `CASE WHEN json_type(${column}, '$.${key}') = 'text' THEN ${text} END` : `CASE WHEN jsonb_typeof((${column})::jsonb -> '${key}') = 'string' THEN ${text} END`;
}

/** Whether the record's tenant (a JSON string) is the parameter: uses the usage_records_tenant index on both. */
function tenantIs(dialect: SqlDialect): string {
  const text = jsonText(dialect, 'u.payload', 'tenant');
  return dialect === 'sqlite' ? `${text} = ?` : `${text} = ? AND jsonb_typeof((u.payload)::jsonb -> 'tenant') = 'string'`;
}

/**
 * The record's start as a number, only when it is a JSON number (`from`, else the early `fromMs`), else NULL:
 * SQLite's typeof(...) IN ('integer', 'real').
 */
function fromNumber(dialect: SqlDialect): string {
  if (dialect === 'sqlite') {
    const from = "COALESCE(json_extract(u.payload, '$.from'), json_extract(u.payload, '$.fromMs'))";
    return `CASE WHEN typeof(${from}) IN ('integer', 'real') THEN ${from} END`;
  }
  const v = "COALESCE(NULLIF((u.payload)::jsonb -> 'from', 'null'::jsonb), NULLIF((u.payload)::jsonb -> 'fromMs', 'null'::jsonb))";
  return `CASE WHEN jsonb_typeof(${v}) = 'number' THEN (${v})::text::numeric END`;
}

/** The late assignment persisted at arrival (migration 35), as a JSON object used month → invoice month (NULL: none). */
function lateObject(dialect: SqlDialect): string {
  const agg = dialect === 'sqlite' ? 'json_group_object(l.used_month, l.invoice_month)' : 'json_object_agg(l.used_month, l.invoice_month)::text';
  return `(SELECT ${agg} FROM usage_late l WHERE l.usage_id = u.id) AS late`;
}

function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text; // reported as "payload is not an object" by the checks
  }
}

// keys by month: the aggregate's order is unspecified on PostgreSQL, and rating sees the pieces in this order
function lateTo(text: string | null): Record<string, string> {
  if (text === null) return {};
  const o = JSON.parse(text) as Record<string, string>;
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k] as string]));
}

function toStored(r: UsageSqlRow): StoredUsage {
  return { node: r.node, seq: r.seq, payload: parsePayload(r.payload), receivedAt: r.received_at, lateTo: lateTo(r.late) };
}

/** BillingReads (and the close's write) over one executor: the store, or the inside of a transaction. */
class BillingQueries implements BillingCloseTx {
  constructor(private readonly x: SqlExecutor) {}

  async closedMonths(): Promise<Map<string, number>> {
    const rows = await this.x.all<{ month: string; closed_at_ms: number }>('SELECT month, closed_at_ms FROM billing_closed_months ORDER BY month');
    return new Map(rows.map((r) => [r.month, r.closed_at_ms]));
  }

  async closedList(): Promise<ClosedMonth[]> {
    const rows = await this.x.all<{ month: string; closed_at_ms: number; closed_by: string }>('SELECT month, closed_at_ms, closed_by FROM billing_closed_months ORDER BY month');
    return rows.map((r) => ({ month: r.month, closedAt: new Date(r.closed_at_ms).toISOString(), closedBy: r.closed_by }));
  }

  async frozen(tenant: string, month: string): Promise<FrozenInvoice | undefined> {
    const r = await this.x.get<{ invoice_json: string; invoice_csv: string }>('SELECT invoice_json, invoice_csv FROM billing_invoices WHERE tenant = ? AND month = ?', [tenant, month]);
    return r === undefined ? undefined : { json: r.invoice_json, csv: r.invoice_csv };
  }

  async usage(tenant: string | undefined, beforeMs: number): Promise<StoredUsage[]> {
    const d = this.x.dialect;
    const text = `SELECT u.node, u.seq, u.payload, u.received_at, ${lateObject(d)} FROM usage_records u
      WHERE ${tenant === undefined ? '1 = 1' : tenantIs(d)} AND ${fromNumber(d)} < ? ORDER BY u.node, u.seq`;
    const rows = await this.x.all<UsageSqlRow>(text, tenant === undefined ? [beforeMs] : [tenant, beforeMs]);
    return rows.map(toStored);
  }

  async receivedBetween(tenant: string | undefined, fromIso: string, toIso: string): Promise<StoredUsage[]> {
    const text = `SELECT u.node, u.seq, u.payload, u.received_at, NULL AS late FROM usage_records u
      WHERE ${tenant === undefined ? '1 = 1' : tenantIs(this.x.dialect)} AND u.received_at >= ? AND u.received_at < ? ORDER BY u.node, u.seq`;
    const rows = await this.x.all<UsageSqlRow>(text, tenant === undefined ? [fromIso, toIso] : [tenant, fromIso, toIso]);
    return rows.map(toStored);
  }

  async tenantsWithUsage(): Promise<string[]> {
    const t = jsonString(this.x.dialect, 'payload', 'tenant');
    const collate = this.x.dialect === 'postgres' ? ' COLLATE "C"' : '';
    const rows = await this.x.all<{ t: string }>(`SELECT DISTINCT ${t}${collate} AS t FROM usage_records WHERE ${t} IS NOT NULL ORDER BY t`);
    return rows.map((r) => r.t);
  }

  async close(month: string, atMs: number, by: string, invoices: ReadonlyArray<{ tenant: string } & FrozenInvoice>): Promise<void> {
    await this.x.run('INSERT INTO billing_closed_months (month, closed_at_ms, closed_by) VALUES (?, ?, ?)', [month, atMs, by]);
    for (const inv of invoices) await this.x.run('INSERT INTO billing_invoices (tenant, month, invoice_json, invoice_csv) VALUES (?, ?, ?, ?)', [inv.tenant, month, inv.json, inv.csv]);
  }
}

/** BillingRepo over the Sql interface. */
export class SqlBillingRepo implements BillingRepo {
  private readonly reads: BillingReads;

  constructor(private readonly sql: Sql) {
    this.reads = new BillingQueries(sql);
  }

  closedMonths(): Promise<Map<string, number>> {
    return this.reads.closedMonths();
  }

  closedList(): Promise<ClosedMonth[]> {
    return this.reads.closedList();
  }

  frozen(tenant: string, month: string): Promise<FrozenInvoice | undefined> {
    return this.reads.frozen(tenant, month);
  }

  usage(tenant: string | undefined, beforeMs: number): Promise<StoredUsage[]> {
    return this.reads.usage(tenant, beforeMs);
  }

  receivedBetween(tenant: string | undefined, fromIso: string, toIso: string): Promise<StoredUsage[]> {
    return this.reads.receivedBetween(tenant, fromIso, toIso);
  }

  tenantsWithUsage(): Promise<string[]> {
    return this.reads.tenantsWithUsage();
  }

  closing<T>(fn: (tx: BillingCloseTx) => Promise<T>): Promise<T> {
    return this.sql.tx(async (tx) => {
      // SQLite: the transaction (BEGIN IMMEDIATE) already holds the only write lock. PostgreSQL: this mode
      // waits for inserts under way, blocks new ones until the commit, and admits one close at a time.
      if (tx.dialect === 'postgres') await tx.run('LOCK TABLE usage_records, billing_closed_months IN SHARE ROW EXCLUSIVE MODE');
      return fn(new BillingQueries(tx));
    });
  }
}

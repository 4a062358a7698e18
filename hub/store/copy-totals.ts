/**
 * The money a copied hub must still add up to, per tenant and month, gathered from the rows the
 * verification reads anyway: usage records (how many, and their seconds: `to` minus `from` in whole
 * seconds, counted in the month their time starts) and the frozen invoices of closed months (their
 * totals.amount and currency as stored). Computed by the same code from each side's rows, then compared.
 * The invoicer itself is not run: it reads the SQLite store synchronously; the content checksums of
 * usage_records, usage_late and billing_* are what prove an invoice would be rendered the same.
 */
import type { Row } from './copy-read.js';

/** What one tenant's month adds up to on one side. */
export interface MonthTotals {
  /** Usage records whose time starts in the month. */
  records: number;
  /** Their seconds (to - from, floored to whole seconds at both ends). */
  seconds: number;
  /** The frozen invoice's total ("12.34 EUR"), when the month is closed. */
  invoice?: string;
}

/** Per "tenant month" key. */
export type Totals = Map<string, MonthTotals>;

/** A tenant's month compared across the two sides. */
export interface TotalsCheck {
  tenant: string;
  month: string;
  source: MonthTotals;
  target: MonthTotals;
  ok: boolean;
}

const EMPTY: MonthTotals = { records: 0, seconds: 0 };

/** Adds one usage_records row to `totals` (rows without a tenant or a whole-number from/to are not counted). */
export function addUsage(totals: Totals, row: Row): void {
  const p = parse(row.payload);
  if (p === undefined || typeof p.tenant !== 'string') return;
  const from = whole(p.from ?? p.fromMs);
  const to = whole(p.to ?? p.toMs);
  if (from === undefined || to === undefined) return;
  const t = entry(totals, p.tenant, new Date(from).toISOString().slice(0, 7));
  t.records += 1;
  t.seconds += Math.max(0, Math.floor(to / 1000) - Math.floor(from / 1000));
}

/** Adds one billing_invoices row's total to `totals`. */
export function addInvoice(totals: Totals, row: Row): void {
  const doc = parse(row.invoice_json);
  const sums = doc?.totals as { amount?: unknown } | undefined;
  const t = entry(totals, String(row.tenant), String(row.month));
  t.invoice = `${typeof sums?.amount === 'string' ? sums.amount : '?'} ${typeof doc?.currency === 'string' ? doc.currency : ''}`.trim();
}

/** Every tenant's month of either side, with whether both sides agree. */
export function compareTotals(source: Totals, target: Totals): TotalsCheck[] {
  const keys = [...new Set([...source.keys(), ...target.keys()])].sort();
  return keys.map((k) => {
    const [tenant, month] = k.split('\u0000') as [string, string];
    const s = source.get(k) ?? EMPTY;
    const t = target.get(k) ?? EMPTY;
    return { tenant, month, source: s, target: t, ok: s.records === t.records && s.seconds === t.seconds && s.invoice === t.invoice };
  });
}

function entry(totals: Totals, tenant: string, month: string): MonthTotals {
  const k = `${tenant}\u0000${month}`;
  let t = totals.get(k);
  if (t === undefined) totals.set(k, (t = { records: 0, seconds: 0 }));
  return t;
}

function parse(v: unknown): Record<string, unknown> | undefined {
  if (typeof v !== 'string') return undefined;
  try {
    const o = JSON.parse(v) as unknown;
    return typeof o === 'object' && o !== null && !Array.isArray(o) ? (o as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function whole(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && Math.abs(v) < 8.64e15 ? v : undefined;
}

/**
 * Invoices per tenant per month from rated lines: a JSON document (lines, totals, currency, measured
 * utilization labelled as not billed) and its CSV rendering (RFC 4180). GPU lines and the lines of the
 * other resources (vCPU, memory, storage) share one shape: `resource`, `quantity` and `unit` say what a line bills.
 */
import { FoundryError } from '../../common/errors.js';
import { formatMinor, hoursFromSeconds } from './money.js';
import type { BilledResource, InvoiceLine } from './invoice-line.js';
import { compareLines } from './rate.js';
import { isoSecond, monthEnd, monthStart } from './usage.js';

/** The label shown beside every measured figure, so it is never read as part of the amount. */
export const UTILIZATION_LABEL = 'measured utilization (not billed)';

/** One line of an invoice document. Money as decimal strings (JSON has no BigInt). */
export interface InvoiceDocLine {
  workspace: string;
  /** gpu, vcpu, memory or storage. */
  resource: BilledResource;
  /** GPU model of a gpu line; '' otherwise. */
  gpuModel: string;
  periodFrom: string;
  late: boolean;
  /** gpu: billed GPU-seconds; other resources: billed seconds held. */
  seconds: number;
  /** gpu: GPU-hours; "0.000000" otherwise. */
  gpuHours: string;
  /** Billed quantity in `unit` (GPU-hour, vCPU-hour, GiB-hour, GiB-month), 6 decimals. */
  quantity: string;
  unit: string;
  /** Price of one `unit`. */
  unitPrice: string;
  amount: string;
  measuredUtilization: { label: string; percent: number } | null;
  /** Only on a line that could not be priced: why. Its amount is 0 and unitPrice "". */
  unpriced?: string;
}

/** Something an admin must look at before sending the invoice: unpriced lines, usage records that could not be rated. */
export interface InvoiceAlert {
  /** UNPRICED: GPU time without a price (see the lines); UNRATABLE: stored usage records excluded from the amount. */
  code: 'UNPRICED' | 'UNRATABLE';
  message: string;
  /** How many lines (UNPRICED) or records (UNRATABLE). */
  count: number;
  /** UNRATABLE: the first records excluded, by node and sequence number, with the reason. */
  records?: Array<{ node: string; seq: number; reason: string }>;
}

/** A tenant's invoice for one UTC month. */
export interface Invoice {
  tenant: string;
  displayName?: string;
  month: string;
  /** [periodStart, periodEnd) in UTC. */
  periodStart: string;
  periodEnd: string;
  currency: string;
  lines: InvoiceDocLine[];
  /**
   * gpuSeconds and gpuHours: GPU time of the priced GPU lines only (vCPU, memory and storage lines carry
   * their own quantity and unit); seconds: the same as gpuSeconds, kept for readers of the older name.
   * amount: every line.
   */
  totals: { seconds: number; gpuSeconds: number; gpuHours: string; amount: string; amountMinor: string };
  /** Admin-visible notes (absent when there is nothing to look at); the API shows them to admins only. */
  alerts?: InvoiceAlert[];
}

/** Options of buildInvoice(). */
export interface InvoiceOptions {
  displayName?: string;
  /** Currency when there are no lines (default EUR). */
  currency?: string;
  /** Usage records excluded from this invoice's amount (reported as an UNRATABLE alert). */
  excluded?: ReadonlyArray<{ node: string; seq: number; reason: string }>;
}

/** How many excluded records an UNRATABLE alert lists by name (the count covers all). */
export const ALERT_RECORDS_SHOWN = 20;

/** Builds the invoice of `tenant` for `month` from rated lines (other tenants' and months' lines are ignored). */
export function buildInvoice(tenant: string, month: string, lines: readonly InvoiceLine[], opts: InvoiceOptions = {}): Invoice {
  return invoiceOf(tenant, month, lines.filter((l) => l.tenant === tenant && l.month === month), opts);
}

/** Every tenant's invoice for `month` (tenants with lines in it), in one pass over the lines. */
export function buildInvoices(month: string, lines: readonly InvoiceLine[], displayNames?: ReadonlyMap<string, string>): Map<string, Invoice> {
  const byTenant = new Map<string, InvoiceLine[]>();
  for (const l of lines) {
    if (l.month !== month) continue;
    const list = byTenant.get(l.tenant) ?? [];
    list.push(l);
    byTenant.set(l.tenant, list);
  }
  const out = new Map<string, Invoice>();
  for (const [tenant, mine] of [...byTenant].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const name = displayNames?.get(tenant);
    out.set(tenant, invoiceOf(tenant, month, mine, name === undefined ? {} : { displayName: name }));
  }
  return out;
}

function invoiceOf(tenant: string, month: string, lines: InvoiceLine[], opts: InvoiceOptions): Invoice {
  const start = monthStart(month);
  const mine = lines.sort(compareLines);
  const currencies = new Set(mine.map((l) => l.currency));
  if (currencies.size > 1) {
    throw new FoundryError('BILLING', `invoice ${tenant} ${month}: lines in several currencies (${[...currencies].join(', ')})`, { resource: tenant });
  }
  const currency = mine[0]?.currency ?? opts.currency ?? 'EUR';
  let seconds = 0;
  let minor = 0n;
  let unpriced = 0;
  for (const l of mine) {
    if (l.unpriced !== undefined) unpriced++;
    else if (l.resource === 'gpu') seconds += l.seconds;
    minor += l.amountMinor;
  }
  const invoice: Invoice = {
    tenant,
    month,
    periodStart: isoSecond(start),
    periodEnd: isoSecond(monthEnd(month)),
    currency,
    lines: mine.map((l) => ({
      workspace: l.workspace,
      resource: l.resource,
      gpuModel: l.gpuModel,
      periodFrom: l.periodFrom,
      late: l.late,
      seconds: l.seconds,
      gpuHours: l.gpuHours,
      quantity: l.quantity,
      unit: l.unit,
      unitPrice: l.unitPrice,
      amount: l.amount,
      measuredUtilization: l.utilization === undefined ? null : { label: UTILIZATION_LABEL, percent: l.utilization },
      ...(l.unpriced === undefined ? {} : { unpriced: l.unpriced }),
    })),
    totals: { seconds, gpuSeconds: seconds, gpuHours: hoursFromSeconds(BigInt(seconds)), amount: formatMinor(minor, currency), amountMinor: minor.toString() },
  };
  if (opts.displayName !== undefined) invoice.displayName = opts.displayName;
  const alerts: InvoiceAlert[] = [];
  if (unpriced > 0) alerts.push({ code: 'UNPRICED', count: unpriced, message: `${unpriced} line${unpriced === 1 ? '' : 's'} of GPU time without a price (amount 0): add the price to the price list` });
  const excluded = opts.excluded ?? [];
  if (excluded.length > 0) {
    alerts.push({ code: 'UNRATABLE', count: excluded.length, message: `${excluded.length} stored usage record${excluded.length === 1 ? '' : 's'} could not be rated and ${excluded.length === 1 ? 'is' : 'are'} excluded from the amount`, records: excluded.slice(0, ALERT_RECORDS_SHOWN).map((r) => ({ ...r })) });
  }
  if (alerts.length > 0) invoice.alerts = alerts;
  return invoice;
}

const CSV_HEADER = ['tenant', 'month', 'workspace', 'gpu_model', 'price_period_from', 'late', 'seconds', 'gpu_hours', 'unit_price', 'amount', 'currency', 'measured_utilization_percent_not_billed', 'resource', 'quantity', 'unit', 'unpriced'];

/** Quotes a CSV field per RFC 4180 when it holds a comma, quote, CR or LF. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The invoice as CSV (RFC 4180: CRLF line ends, header row, one row per line; no total row). resource, quantity, unit and unpriced (the reason, or empty) come last so older readers' columns keep their places. */
export function invoiceCsv(inv: Invoice): string {
  const rows = [CSV_HEADER];
  for (const l of inv.lines) {
    rows.push([
      inv.tenant, inv.month, l.workspace, l.gpuModel, l.periodFrom, String(l.late), String(l.seconds), l.gpuHours, l.unitPrice, l.amount, inv.currency,
      l.measuredUtilization === null ? '' : String(l.measuredUtilization.percent),
      l.resource, l.quantity, l.unit, l.unpriced ?? '',
    ]);
  }
  return rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** Running cost per workspace (and the total) of a tenant's month so far, in minor units. */
export function runningCost(tenant: string, month: string, lines: readonly InvoiceLine[]): { currency: string; total: string; byWorkspace: Record<string, string> } {
  const inv = buildInvoice(tenant, month, lines);
  const by = new Map<string, bigint>();
  for (const l of lines) {
    if (l.tenant === tenant && l.month === month) by.set(l.workspace, (by.get(l.workspace) ?? 0n) + l.amountMinor);
  }
  const byWorkspace: Record<string, string> = {};
  for (const [ws, minor] of [...by].sort(([a], [b]) => (a < b ? -1 : 1))) byWorkspace[ws] = formatMinor(minor, inv.currency);
  return { currency: inv.currency, total: inv.totals.amount, byWorkspace };
}

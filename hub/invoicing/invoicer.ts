/**
 * Hub-side billing: the tenant's stored usage → checked intervals (coalesced) → rate() with the price
 * list from the infra repo (the tenant's priceList, else "default") → invoices. A closed month serves the
 * invoice frozen at close. Late time is billed on the invoice assigned when its record arrived (stored in
 * usage_late), so no later close bills it again. Nothing stored can make an invoice or a close fail: a
 * record that cannot be rated is excluded and reported, GPU time without a price makes an unpriced line;
 * both show as alerts on the invoice (admins) and in the log.
 */
import { FoundryError } from '../../common/errors.js';
import type { InfraRepo } from '../../common/infra/model.js';
import { coalesce } from '../billing/coalesce.js';
import { coalesceResources } from '../billing/rate-resources.js';
import { buildInvoice, invoiceCsv, runningCost, type Invoice } from '../billing/invoice.js';
import { formatMinor } from '../billing/money.js';
import type { InvoiceLine } from '../billing/invoice-line.js';
import { rate } from '../billing/rate.js';
import { monthEnd, monthOf, monthStart } from '../billing/usage.js';
import type { BillingReads, BillingRepo } from '../store/billing-repo.js';
import { checkStoredRecord } from './record-checks.js';
import { toIntervals, type ExcludedRecord } from './usage-intervals.js';
import { emptyInvoiceReason } from './empty-reason.js';

/** One unpriced line as the API lists it beside the invoice. */
export interface UnpricedEntry {
  workspace: string;
  gpuModel: string;
  late: boolean;
  seconds: number;
  reason: string;
}

/** An invoice answer: the document, its CSV, whether it is frozen, and its unpriced lines (from the document, so a frozen month keeps them). */
export interface InvoiceAnswer {
  invoice: Invoice;
  csv: string;
  frozen: boolean;
  unpriced: UnpricedEntry[];
  /** Why the invoice has no line (absent when it has lines). */
  emptyReason?: string;
}

/** Where the invoicer reports what an admin must look at (pino's logger fits). */
export interface BillingLog {
  warn(obj: object, msg: string): void;
}

function modelIndex(repo: InfraRepo): (uuid: string) => string | undefined {
  const models = new Map<string, string>();
  for (const { doc } of repo.nodes.values()) for (const g of doc.spec.gpus ?? []) models.set(g.uuid, g.model);
  return (uuid) => models.get(uuid);
}

function unpricedOf(inv: Invoice): UnpricedEntry[] {
  return inv.lines.filter((l) => l.unpriced !== undefined).map((l) => ({ workspace: l.workspace, gpuModel: l.gpuModel, late: l.late, seconds: l.seconds, reason: l.unpriced as string }));
}

const isoMs = (sec: number): string => new Date(sec * 1000).toISOString();

/** Computes and freezes invoices. */
export class Invoicer {
  /** Alerts already logged (tenant, month, what): each is logged once per process, not on every read. */
  private readonly logged = new Set<string>();

  /** `onAlert(code)` is called once per alert logged (the hub counts them in foundry_hub_billing_alerts_total). */
  constructor(private readonly store: BillingRepo, private readonly now: () => number = () => Date.now(), private readonly log?: BillingLog, private readonly onAlert?: (code: string) => void) {}

  /** Rated lines of `tenant` up to the end of `month` (every month before it too); `reads`: inside a close, its transaction. */
  async lines(repo: InfraRepo, tenant: string, month: string, reads: BillingReads = this.store): Promise<InvoiceLine[]> {
    const conv = toIntervals(await reads.usage(tenant, monthEnd(month) * 1000), modelIndex(repo));
    const priceLists = [...repo.priceLists.values()].map((l) => l.doc);
    // lateness comes from each record's assignment made at arrival (lateTo), never from today's closed months:
    // no closedMonths here, so a record without lateTo is on time
    return rate(coalesce(conv.intervals), priceLists, {
      priceListOf: (t) => repo.tenants.get(t)?.doc.spec.priceList,
      resources: coalesceResources(conv.resources),
    });
  }

  /** Records of `tenant` (every tenant when undefined) that arrived in `month` and cannot be rated: reported on that month's invoice. */
  async excluded(tenant: string | undefined, month: string, reads: BillingReads = this.store): Promise<ExcludedRecord[]> {
    const rows = await reads.receivedBetween(tenant, isoMs(monthStart(month)), isoMs(monthEnd(month)));
    const out: ExcludedRecord[] = [];
    for (const row of rows) {
      const c = checkStoredRecord(row.payload, row.receivedAt);
      if (!c.ok) out.push({ node: row.node, seq: row.seq, reason: c.reason });
    }
    return out;
  }

  /** The invoice of `tenant` for `month` computed from the store now (open months; and at close). */
  private async compute(repo: InfraRepo, tenant: string, month: string, reads: BillingReads = this.store): Promise<{ invoice: Invoice; excluded: ExcludedRecord[] }> {
    const excluded = await this.excluded(tenant, month, reads);
    const invoice = buildInvoice(tenant, month, await this.lines(repo, tenant, month, reads), {
      displayName: repo.tenants.get(tenant)?.doc.spec.displayName, currency: this.currencyOf(repo, tenant), excluded,
    });
    this.report(invoice);
    return { invoice, excluded };
  }

  /** The invoice of `tenant` for `month`: frozen when the month is closed, computed now otherwise. */
  async invoice(repo: InfraRepo, tenant: string, month: string): Promise<InvoiceAnswer> {
    monthStart(month);
    const frozen = await this.store.frozen(tenant, month);
    const closedEmpty = `month ${month} was closed with nothing billed to ${tenant}`;
    if (frozen !== undefined) {
      const invoice = JSON.parse(frozen.json) as Invoice;
      return { invoice, csv: frozen.csv, frozen: true, unpriced: unpricedOf(invoice), ...(invoice.lines.length === 0 ? { emptyReason: closedEmpty } : {}) };
    }
    if ((await this.store.closedMonths()).has(month)) {
      // closed with no usage of this tenant at the time: an empty invoice, frozen too
      const invoice = buildInvoice(tenant, month, [], { displayName: repo.tenants.get(tenant)?.doc.spec.displayName });
      return { invoice, csv: invoiceCsv(invoice), frozen: true, unpriced: [], emptyReason: closedEmpty };
    }
    const { invoice } = await this.compute(repo, tenant, month);
    const emptyReason = invoice.lines.length === 0
      ? emptyInvoiceReason(repo, tenant, month, toIntervals(await this.store.usage(tenant, monthEnd(month) * 1000), modelIndex(repo)))
      : undefined;
    return { invoice, csv: invoiceCsv(invoice), frozen: false, unpriced: unpricedOf(invoice), ...(emptyReason === undefined ? {} : { emptyReason }) };
  }

  /** Running cost of the month so far per workspace, with the tenant's quota and GPUs held now. */
  async usage(repo: InfraRepo, tenant: string, month = monthOf(Math.floor(this.now() / 1000))): Promise<Record<string, unknown>> {
    const answer = await this.invoice(repo, tenant, month);
    const byWorkspace: Record<string, string> = {};
    let cost: { currency: string; total: string; byWorkspace: Record<string, string> };
    if (answer.frozen) {
      // a workspace has several lines (GPU models, resources, price periods): add them up in minor units
      const minor = new Map<string, bigint>();
      for (const l of answer.invoice.lines) minor.set(l.workspace, (minor.get(l.workspace) ?? 0n) + BigInt(l.amount.replace('.', '')));
      for (const [ws, m] of [...minor].sort(([a], [b]) => (a < b ? -1 : 1))) byWorkspace[ws] = formatMinor(m, answer.invoice.currency);
      cost = { currency: answer.invoice.currency, total: answer.invoice.totals.amount, byWorkspace };
    } else cost = runningCost(tenant, month, await this.lines(repo, tenant, month));
    let gpusHeld = 0;
    for (const { doc } of repo.workspaces.values()) if (doc.spec.tenant === tenant && doc.spec.node !== undefined) gpusHeld += doc.spec.gpus?.uuids?.length ?? 0;
    const maxGpus = repo.tenants.get(tenant)?.doc.spec.quota?.maxGpus ?? null;
    return {
      tenant, month, frozen: answer.frozen, asOf: new Date(this.now()).toISOString(),
      currency: cost.currency, total: cost.total, byWorkspace: cost.byWorkspace,
      seconds: answer.invoice.totals.seconds, gpuHours: answer.invoice.totals.gpuHours,
      quota: { maxGpus, gpusHeld },
      unpriced: answer.unpriced.length,
    };
  }

  /**
   * Closes a finished month: every tenant's invoice is rendered and stored, in one write transaction with
   * the close, so a record arrives either before (on the frozen invoice) or after (late, assigned to an
   * open month). Records that arrived in the month with no readable tenant are counted in `unattributed`.
   */
  async close(repo: InfraRepo, month: string, actor: string): Promise<{ month: string; closedAt: string; invoices: Array<{ tenant: string; total: string; currency: string; alerts: number }>; unattributed: number }> {
    const at = this.now();
    if (monthEnd(month) * 1000 > at) throw new FoundryError('CONFLICT', `month ${month} has not ended yet`, { resource: month });
    return this.store.closing(async (tx) => {
      if ((await tx.closedMonths()).has(month)) throw new FoundryError('CONFLICT', `month ${month} is already closed`, { resource: month });
      const tenants = [...new Set([...repo.tenants.keys(), ...(await tx.tenantsWithUsage())])].sort();
      const reported = new Set<string>();
      const invoices: Array<{ tenant: string; invoice: Invoice; json: string; csv: string }> = [];
      for (const tenant of tenants) {
        const { invoice, excluded } = await this.compute(repo, tenant, month, tx);
        for (const r of excluded) reported.add(`${r.node}\u0000${r.seq}`);
        invoices.push({ tenant, invoice, json: JSON.stringify(invoice), csv: invoiceCsv(invoice) });
      }
      const unattributed = (await this.excluded(undefined, month, tx)).filter((r) => !reported.has(`${r.node}\u0000${r.seq}`));
      if (unattributed.length > 0) this.log?.warn({ month, count: unattributed.length, records: unattributed.slice(0, 20) }, 'billing: usage records without a readable tenant cannot be rated; excluded from every invoice');
      await tx.close(month, at, actor, invoices);
      return {
        month, closedAt: new Date(at).toISOString(), unattributed: unattributed.length,
        invoices: invoices.map((i) => ({ tenant: i.tenant, total: i.invoice.totals.amount, currency: i.invoice.currency, alerts: i.invoice.alerts?.length ?? 0 })),
      };
    });
  }

  /** Logs an invoice's alerts, once per tenant, month and content. */
  private report(inv: Invoice): void {
    for (const a of inv.alerts ?? []) {
      const key = `${inv.tenant}\u0000${inv.month}\u0000${a.code}\u0000${a.count}`;
      if (this.logged.has(key)) continue;
      this.logged.add(key);
      this.onAlert?.(a.code);
      const unpriced = a.code === 'UNPRICED' ? inv.lines.filter((l) => l.unpriced !== undefined).map((l) => ({ workspace: l.workspace, gpuModel: l.gpuModel, seconds: l.seconds, reason: l.unpriced })) : undefined;
      this.log?.warn({ tenant: inv.tenant, month: inv.month, code: a.code, count: a.count, records: a.records, unpriced }, `billing: ${a.message}`);
    }
  }

  private currencyOf(repo: InfraRepo, tenant: string): string | undefined {
    const name = repo.tenants.get(tenant)?.doc.spec.priceList ?? 'default';
    return repo.priceLists.get(name)?.doc.spec.currency;
  }
}

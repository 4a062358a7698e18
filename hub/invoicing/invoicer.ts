/**
 * Hub-side billing: the tenant's stored usage → intervals (coalesced) → rate() with the price list from
 * the infra repo (the tenant's priceList, else "default") → invoices. A closed month serves the invoice
 * frozen at close; records arriving later for it are billed in the next open month, marked late.
 */
import { FoundryError } from '../../common/errors.js';
import type { InfraRepo } from '../../common/infra/model.js';
import { coalesce } from '../billing/coalesce.js';
import { coalesceResources } from '../billing/rate-resources.js';
import { buildInvoice, invoiceCsv, runningCost, type Invoice } from '../billing/invoice.js';
import { formatMinor } from '../billing/money.js';
import { rate, type InvoiceLine } from '../billing/rate.js';
import { monthEnd, monthOf, monthStart } from '../billing/usage.js';
import type { BillingStore } from './billing-store.js';
import { toIntervals, type Converted } from './usage-intervals.js';
import { emptyInvoiceReason } from './empty-reason.js';

/** An invoice answer: the document, its CSV, whether it is frozen, and records that could not be priced. */
export interface InvoiceAnswer {
  invoice: Invoice;
  csv: string;
  frozen: boolean;
  unpriced: Converted['unpriced'];
  /** Why the invoice has no line (absent when it has lines). */
  emptyReason?: string;
}

function modelIndex(repo: InfraRepo): (uuid: string) => string | undefined {
  const models = new Map<string, string>();
  for (const { doc } of repo.nodes.values()) for (const g of doc.spec.gpus ?? []) models.set(g.uuid, g.model);
  return (uuid) => models.get(uuid);
}

/** Computes and freezes invoices. */
export class Invoicer {
  constructor(private readonly store: BillingStore, private readonly now: () => number = () => Date.now()) {}

  /** Rated lines of `tenant` up to the end of `month` (every month before it too). */
  lines(repo: InfraRepo, tenant: string, month: string, closed = this.store.closedMonths()): { lines: InvoiceLine[]; unpriced: Converted['unpriced']; usage: Converted } {
    const conv = toIntervals(this.store.usage(tenant, monthEnd(month) * 1000), modelIndex(repo));
    const priceLists = [...repo.priceLists.values()].map((l) => l.doc);
    const lines = rate(coalesce(conv.intervals, closed), priceLists, {
      priceListOf: (t) => repo.tenants.get(t)?.doc.spec.priceList,
      closedMonths: closed,
      resources: coalesceResources(conv.resources, closed),
    });
    return { lines, unpriced: conv.unpriced, usage: conv };
  }

  /** The invoice of `tenant` for `month`: frozen when the month is closed, computed now otherwise. */
  invoice(repo: InfraRepo, tenant: string, month: string): InvoiceAnswer {
    monthStart(month);
    const frozen = this.store.frozen(tenant, month);
    const closedEmpty = `month ${month} was closed with nothing billed to ${tenant}`;
    if (frozen !== undefined) {
      const invoice = JSON.parse(frozen.json) as Invoice;
      return { invoice, csv: frozen.csv, frozen: true, unpriced: [], ...(invoice.lines.length === 0 ? { emptyReason: closedEmpty } : {}) };
    }
    if (this.store.closedMonths().has(month)) {
      // closed with no usage of this tenant at the time: an empty invoice, frozen too
      const invoice = buildInvoice(tenant, month, [], { displayName: repo.tenants.get(tenant)?.doc.spec.displayName });
      return { invoice, csv: invoiceCsv(invoice), frozen: true, unpriced: [], emptyReason: closedEmpty };
    }
    const { lines, unpriced, usage } = this.lines(repo, tenant, month);
    const currency = this.currencyOf(repo, tenant);
    const invoice = buildInvoice(tenant, month, lines, { displayName: repo.tenants.get(tenant)?.doc.spec.displayName, currency });
    const emptyReason = invoice.lines.length === 0 ? emptyInvoiceReason(repo, tenant, month, usage) : undefined;
    return { invoice, csv: invoiceCsv(invoice), frozen: false, unpriced, ...(emptyReason === undefined ? {} : { emptyReason }) };
  }

  /** Running cost of the month so far per workspace, with the tenant's quota and GPUs held now. */
  usage(repo: InfraRepo, tenant: string, month = monthOf(Math.floor(this.now() / 1000))): Record<string, unknown> {
    const answer = this.invoice(repo, tenant, month);
    const byWorkspace: Record<string, string> = {};
    let cost: { currency: string; total: string; byWorkspace: Record<string, string> };
    if (answer.frozen) {
      // a workspace has several lines (GPU models, resources, price periods): add them up in minor units
      const minor = new Map<string, bigint>();
      for (const l of answer.invoice.lines) minor.set(l.workspace, (minor.get(l.workspace) ?? 0n) + BigInt(l.amount.replace('.', '')));
      for (const [ws, m] of [...minor].sort(([a], [b]) => (a < b ? -1 : 1))) byWorkspace[ws] = formatMinor(m, answer.invoice.currency);
      cost = { currency: answer.invoice.currency, total: answer.invoice.totals.amount, byWorkspace };
    } else cost = runningCost(tenant, month, this.lines(repo, tenant, month).lines);
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

  /** Closes a finished month: every tenant's invoice is rendered and stored; later usage for it becomes late. */
  close(repo: InfraRepo, month: string, actor: string): { month: string; closedAt: string; invoices: Array<{ tenant: string; total: string; currency: string }> } {
    const at = this.now();
    if (monthEnd(month) * 1000 > at) throw new FoundryError('CONFLICT', `month ${month} has not ended yet`, { resource: month });
    const closed = this.store.closedMonths();
    if (closed.has(month)) throw new FoundryError('CONFLICT', `month ${month} is already closed`, { resource: month });
    const tenants = [...new Set([...repo.tenants.keys(), ...this.store.tenantsWithUsage()])].sort();
    const invoices = tenants.map((tenant) => {
      const inv = buildInvoice(tenant, month, this.lines(repo, tenant, month, closed).lines, { displayName: repo.tenants.get(tenant)?.doc.spec.displayName, currency: this.currencyOf(repo, tenant) });
      return { tenant, invoice: inv, json: JSON.stringify(inv), csv: invoiceCsv(inv) };
    });
    this.store.close(month, at, actor, invoices);
    return { month, closedAt: new Date(at).toISOString(), invoices: invoices.map((i) => ({ tenant: i.tenant, total: i.invoice.totals.amount, currency: i.invoice.currency })) };
  }

  private currencyOf(repo: InfraRepo, tenant: string): string | undefined {
    const name = repo.tenants.get(tenant)?.doc.spec.priceList ?? 'default';
    return repo.priceLists.get(name)?.doc.spec.currency;
  }
}

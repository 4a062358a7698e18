/**
 * What each tenant costs: per hour now (the GPUs its running, placed workspaces hold, at the price of the
 * tenant's price list valid now) and month to date (the amount the invoice of the current month says).
 * Prices come from hub/billing (compiled price lists), the invoice from hub/invoicing's Invoicer.
 */
import type { InfraRepo } from '../../common/infra/model.js';
import { findPricesForTenant, periodIndexAt } from '../billing/prices.js';
import { MICROS_PER_UNIT } from '../billing/money.js';
import type { FleetSnapshot } from '../scheduler/snapshot.js';

/** One tenant's cost in its price list's currency (a float: Prometheus values are). */
export interface TenantCost {
  tenant: string;
  currency: string;
  amount: number;
}

/**
 * Cost per hour of every tenant of `repo` whose price list exists: the sum, over the GPUs its running placed
 * workspaces hold, of the GPU-hour price of their model (the node's reported model, else the workspace's
 * requested one) in the period valid at `nowMs`. GPU time only: that is what the tenant pays by the hour.
 */
export function tenantCostPerHour(repo: InfraRepo, snapshot: FleetSnapshot, nowMs: number): TenantCost[] {
  const lists = [...repo.priceLists.values()].map((l) => l.doc);
  const modelOf = new Map(snapshot.nodes.flatMap((n) => n.gpus.map((g) => [`${n.name}\u0000${g.uuid}`, g.model] as const)));
  const out: TenantCost[] = [];
  for (const [tenant, { doc: t }] of [...repo.tenants].sort(([a], [b]) => a.localeCompare(b))) {
    let prices;
    try {
      prices = findPricesForTenant(tenant, lists, (n) => repo.tenants.get(n)?.doc.spec.priceList);
    } catch {
      continue; // an invalid price list: the invoice reports it; no made-up cost here
    }
    if (prices === undefined) continue;
    const period = prices.periods[periodIndexAt(prices, Math.floor(nowMs / 1000))];
    let micros = 0n;
    for (const { doc: ws } of repo.workspaces.values()) {
      if (ws.spec.tenant !== t.metadata.name || ws.spec.node === undefined || ws.spec.state === 'stopped') continue;
      for (const uuid of ws.spec.gpus?.uuids ?? []) {
        const model = modelOf.get(`${ws.spec.node}\u0000${uuid}`) ?? ws.spec.gpus?.model;
        micros += (model === undefined ? undefined : period?.gpuHourMicros.get(model)) ?? 0n;
      }
    }
    out.push({ tenant, currency: prices.currency, amount: Number(micros) / Number(MICROS_PER_UNIT) });
  }
  return out;
}

/** The invoice figures month-to-date needs (Invoicer.invoice(...).invoice). */
export type InvoiceOf = (repo: InfraRepo, tenant: string, month: string) => Promise<{ currency: string; totals: { amount: string } }> | { currency: string; totals: { amount: string } };

/** Month-to-date amount of every tenant of `repo`, as its invoice for `month` says it; a tenant whose invoice cannot be computed is left out. */
export async function tenantMonthToDate(repo: InfraRepo, month: string, invoiceOf: InvoiceOf): Promise<TenantCost[]> {
  const out: TenantCost[] = [];
  for (const tenant of [...repo.tenants.keys()].sort()) {
    try {
      const inv = await invoiceOf(repo, tenant, month);
      out.push({ tenant, currency: inv.currency, amount: Number(inv.totals.amount) });
    } catch {
      // no price list, a bad one: the billing API says why; the metric has no value to give
    }
  }
  return out;
}

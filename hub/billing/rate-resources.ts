/**
 * Rating of what a running workspace holds besides GPUs: vCPUs, memory and storage, at the price list's
 * optional vcpuHour, memoryGiBHour and storageGiBMonth. Pure, like rate().
 *
 * The session rules are the GPU rules (sessions.ts), reused as they are with the resource meter (runs
 * keyed by tenant, workspace, node, resource and quantity, each in its own field), so duplicates and overlaps count
 * once, sessions are cut at month ends, late time moves to the first open month, and each part is rounded
 * up to the billing increment. The minimum charge applies to GPU sessions only. A resource with no price
 * in a period (or time before the first period) is free there: no line, never an error; so is every
 * resource of a tenant whose price list does not exist (its GPU time, if any, is refused by rate()).
 */
import { coalesceMetered } from './coalesce.js';
import type { CompiledPrices } from './prices.js';
import { periodIndexAt } from './prices.js';
import type { InvoiceLine } from './invoice-line.js';
import { LineAccumulator, lineKey } from './invoice-line.js';
import { meteredParts, type Meter } from './sessions.js';
import type { ResourceInterval } from './usage.js';
import { checkResourceInterval } from './usage.js';

export { STORAGE_MONTH_SECONDS } from './invoice-line.js';

/** Resource time: one run per tenant, workspace, node, resource and quantity (a resize starts a new run). */
export const RESOURCE_METER: Meter<ResourceInterval> = {
  key: (r) => `${r.tenant}\u0000${r.workspace}\u0000${r.node}\u0000${r.resource}\u0000${r.quantity}`,
  same: (a, b) => a.quantity === b.quantity && a.resource === b.resource && a.workspace === b.workspace && a.node === b.node && a.tenant === b.tenant,
};

/** coalesce() for resource intervals: joins back-to-back records of the same workspace, node, resource and quantity; lossless for rating. */
export function coalesceResources(records: Iterable<ResourceInterval>, closedMonths?: ReadonlyMap<string, number>): ResourceInterval[] {
  return coalesceMetered(records, RESOURCE_METER, closedMonths);
}

/**
 * Rates resource intervals into invoice lines: one per tenant × month × workspace × resource × price
 * period (× late). `pricesOf(tenant)` is the tenant's compiled price list; undefined: nothing to bill.
 */
export function rateResources(intervals: readonly ResourceInterval[], pricesOf: (tenant: string) => CompiledPrices | undefined, closedMonths?: ReadonlyMap<string, number>): InvoiceLine[] {
  const byTenant = new Map<string, ResourceInterval[]>();
  for (const r of intervals) {
    checkResourceInterval(r);
    const list = byTenant.get(r.tenant) ?? [];
    list.push(r);
    byTenant.set(r.tenant, list);
  }
  const lines = new LineAccumulator();
  for (const [tenant, held] of byTenant) {
    const prices = pricesOf(tenant);
    if (prices === undefined) continue;
    const parts = meteredParts(held, RESOURCE_METER, { incrementSec: prices.incrementSec, minimumSec: 0, closedMonths });
    for (const p of parts) {
      const { resource, workspace } = p.of;
      const quantity = BigInt(p.of.quantity);
      let from = p.from;
      while (from < p.to) {
        const i = periodIndexAt(prices, from);
        const to = Math.min(p.to, i < 0 ? (prices.periods[0]?.from ?? p.to) : prices.periods[i]!.to);
        const price = i < 0 ? undefined : prices.periods[i]!.resourceMicros[resource];
        if (price !== undefined) {
          // the increment's added seconds are billed in the period the part ends in, as for GPUs
          const sec = to - from + (to === p.to ? p.extraSec : 0);
          lines.add(lineKey(resource, { tenant, month: p.month, workspace, late: p.late }, i), sec, quantity, () => ({
            tenant, month: p.month, workspace, resource, gpuModel: '', priceList: prices.name, currency: prices.currency,
            periodFrom: prices.periods[i]!.effectiveFrom, late: p.late, unitPriceMicros: price,
          }));
        }
        from = to;
      }
    }
  }
  return lines.finish();
}

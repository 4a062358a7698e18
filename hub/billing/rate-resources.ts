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
import { amountMinorOf, formatMicros, formatMinor, quantityOf } from './money.js';
import { coalesceMetered } from './coalesce.js';
import type { CompiledPrices } from './prices.js';
import { periodIndexAt } from './prices.js';
import type { InvoiceLine } from './invoice-line.js';
import { PRICE_UNIT } from './invoice-line.js';
import { meteredParts, type Meter } from './sessions.js';
import type { HeldResource, ResourceInterval } from './usage.js';
import { checkResourceInterval } from './usage.js';

/** Seconds in the month of a GiB-month: 30 days, whatever the calendar month's length. */
export const STORAGE_MONTH_SECONDS = 2_592_000;

const GIB = 1n << 30n;

/** Quantity × seconds that make one priced unit: milli-vCPU-seconds per vCPU-hour, byte-seconds per GiB-hour and per GiB-month. */
export const UNITS_PER_PRICE_UNIT: Readonly<Record<HeldResource, bigint>> = {
  vcpu: 1000n * 3600n,
  memory: GIB * 3600n,
  storage: GIB * BigInt(STORAGE_MONTH_SECONDS),
};


/** Resource time: one run per tenant, workspace, node, resource and quantity (a resize starts a new run). */
export const RESOURCE_METER: Meter<ResourceInterval> = {
  key: (r) => `${r.tenant}\u0000${r.workspace}\u0000${r.node}\u0000${r.resource}\u0000${r.quantity}`,
  same: (a, b) => a.quantity === b.quantity && a.resource === b.resource && a.workspace === b.workspace && a.node === b.node && a.tenant === b.tenant,
};

/** coalesce() for resource intervals: joins back-to-back records of the same workspace, node, resource and quantity; lossless for rating. */
export function coalesceResources(records: Iterable<ResourceInterval>, closedMonths?: ReadonlyMap<string, number>): ResourceInterval[] {
  return coalesceMetered(records, RESOURCE_METER, closedMonths);
}

interface Acc {
  tenant: string;
  month: string;
  workspace: string;
  resource: HeldResource;
  periodFrom: string;
  late: boolean;
  seconds: number;
  /** Σ quantity × seconds: milli-vCPU-seconds or byte-seconds. */
  units: bigint;
  unitPriceMicros: bigint;
  prices: CompiledPrices;
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
  const accs = new Map<string, Acc>();
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
          const k = `${tenant}\u0000${p.month}\u0000${workspace}\u0000${resource}\u0000${i}\u0000${p.late ? 1 : 0}`;
          let acc = accs.get(k);
          if (acc === undefined) {
            acc = { tenant, month: p.month, workspace, resource, periodFrom: prices.periods[i]!.effectiveFrom, late: p.late, seconds: 0, units: 0n, unitPriceMicros: price, prices };
            accs.set(k, acc);
          }
          acc.seconds += sec;
          acc.units += quantity * BigInt(sec);
        }
        from = to;
      }
    }
  }
  return [...accs.values()].map(finish);
}

function finish(a: Acc): InvoiceLine {
  const currency = a.prices.currency;
  const per = UNITS_PER_PRICE_UNIT[a.resource];
  const minor = amountMinorOf(a.units, a.unitPriceMicros, per, currency);
  return {
    tenant: a.tenant, month: a.month, workspace: a.workspace, resource: a.resource, gpuModel: '', priceList: a.prices.name, currency,
    periodFrom: a.periodFrom, late: a.late, seconds: a.seconds, gpuHours: '0.000000',
    quantity: quantityOf(a.units, per), unit: PRICE_UNIT[a.resource],
    unitPriceMicros: a.unitPriceMicros, unitPrice: formatMicros(a.unitPriceMicros, currency),
    amountMinor: minor, amount: formatMinor(minor, currency),
  };
}

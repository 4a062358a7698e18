/**
 * A PriceList document compiled for rating: periods sorted by start, prices in micro-units, billing
 * increment and minimum charge in whole seconds.
 */
import { FoundryError } from '../../common/errors.js';
import type { PriceList } from '../../common/infra/model.js';
import { parseDuration } from '../../common/units.js';
import { parseMicros } from './money.js';
import { isoSecond, type HeldResource } from './usage.js';

/** One price period: [from, to) in epoch seconds (to = Infinity for the last). */
export interface CompiledPeriod {
  from: number;
  to: number;
  /** The period's start as a UTC instant, normalized: "2026-01-01T00:00:00Z" (also for "2026-01-01T01:00:00+01:00"). */
  effectiveFrom: string;
  gpuHourMicros: ReadonlyMap<string, bigint>;
  /** Optional prices of the other resources, micro-units per vCPU-hour, GiB-hour and GiB-month; absent = free. */
  resourceMicros: Readonly<Partial<Record<HeldResource, bigint>>>;
}

/** A price list ready for rating. */
export interface CompiledPrices {
  name: string;
  currency: string;
  /** Billing increment in seconds (≥ 1); each session is rounded up to a multiple of it. */
  incrementSec: number;
  /** Least billed seconds per session (0 = none). */
  minimumSec: number;
  periods: CompiledPeriod[];
}

function wholeSeconds(text: string | undefined, fallback: number, field: string, name: string): number {
  if (text === undefined) return fallback;
  const ms = parseDuration(text);
  if (ms % 1000 !== 0) throw new FoundryError('BILLING', `price list ${name}: ${field} "${text}" must be whole seconds`, { resource: name });
  return ms / 1000;
}

/** Compiles a PriceList; throws BILLING on a period that does not start at a whole second, duplicates, or bad prices. */
export function compilePrices(doc: PriceList): CompiledPrices {
  const name = doc.metadata.name;
  const incrementSec = wholeSeconds(doc.spec.increment, 1, 'increment', name);
  if (incrementSec < 1) throw new FoundryError('BILLING', `price list ${name}: increment must be at least 1s`, { resource: name });
  const minimumSec = wholeSeconds(doc.spec.minimumCharge, 0, 'minimumCharge', name);
  const starts = doc.spec.periods.map((p) => {
    const ms = Date.parse(p.effectiveFrom);
    if (!Number.isFinite(ms) || ms % 1000 !== 0) {
      throw new FoundryError('BILLING', `price list ${name}: effectiveFrom "${p.effectiveFrom}" must be an instant at a whole second`, { resource: name });
    }
    const prices = new Map<string, bigint>();
    for (const [model, text] of Object.entries(p.gpuHour)) prices.set(model, parseMicros(text, name));
    const resourceMicros: Partial<Record<HeldResource, bigint>> = {};
    if (p.vcpuHour !== undefined) resourceMicros.vcpu = parseMicros(p.vcpuHour, name);
    if (p.memoryGiBHour !== undefined) resourceMicros.memory = parseMicros(p.memoryGiBHour, name);
    if (p.storageGiBMonth !== undefined) resourceMicros.storage = parseMicros(p.storageGiBMonth, name);
    return { from: ms / 1000, effectiveFrom: isoSecond(ms / 1000), gpuHourMicros: prices, resourceMicros };
  });
  starts.sort((a, b) => a.from - b.from);
  for (let i = 1; i < starts.length; i++) {
    if (starts[i]?.from === starts[i - 1]?.from) {
      throw new FoundryError('BILLING', `price list ${name}: two periods start at ${isoSecond(starts[i]?.from ?? 0)}`, { resource: name });
    }
  }
  const periods = starts.map((s, i) => ({ ...s, to: starts[i + 1]?.from ?? Infinity }));
  return { name, currency: doc.spec.currency, incrementSec, minimumSec, periods };
}

/** Index of the period containing epoch second `sec`, or -1 when it lies before the first period. */
export function periodIndexAt(prices: CompiledPrices, sec: number): number {
  const ps = prices.periods;
  let lo = 0;
  let hi = ps.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((ps[mid] as CompiledPeriod).from <= sec) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

const compiled = new WeakMap<PriceList, CompiledPrices>();

/** The compiled price list `tenant` is billed by (`priceListOf(tenant)`, else "default"); BILLING when it does not exist. */
export function pricesForTenant(tenant: string, lists: readonly PriceList[], priceListOf?: (tenant: string) => string | undefined): CompiledPrices {
  const c = findPricesForTenant(tenant, lists, priceListOf);
  if (c === undefined) throw new FoundryError('BILLING', `tenant ${tenant}: price list ${priceListOf?.(tenant) ?? 'default'} not found`, { resource: tenant });
  return c;
}

/** Like pricesForTenant, but undefined when the tenant's price list does not exist (an invalid one still throws). */
export function findPricesForTenant(tenant: string, lists: readonly PriceList[], priceListOf?: (tenant: string) => string | undefined): CompiledPrices | undefined {
  const name = priceListOf?.(tenant) ?? 'default';
  const doc = lists.find((l) => l.metadata.name === name);
  if (doc === undefined) return undefined;
  let c = compiled.get(doc);
  if (c === undefined) {
    c = compilePrices(doc);
    compiled.set(doc, c);
  }
  return c;
}

/**
 * Rating: usage intervals plus price lists → invoice lines, one per tenant × month × workspace × GPU model ×
 * price period (× late), and with `resources`, one per workspace × resource (vCPU, memory, storage) ×
 * price period (rate-resources.ts). Pure: no clock, no store. Amounts are exact until rounded once per line.
 */
import type { PriceList } from '../../common/infra/model.js';
import { amountMinor, formatMicros, formatMinor, hoursFromSeconds } from './money.js';
import type { CompiledPrices } from './prices.js';
import { findPricesForTenant, periodIndexAt, pricesForTenant } from './prices.js';
import type { BillablePart } from './sessions.js';
import type { UsageKey } from './sessions.js';
import { billableParts, keyOf, lateTarget, sameKey } from './sessions.js';
import type { BilledResource, InvoiceLine } from './invoice-line.js';
import { PRICE_UNIT } from './invoice-line.js';
import { rateResources } from './rate-resources.js';
import type { ResourceInterval, UsageInterval } from './usage.js';
import { checkInterval, splitByMonth, toSeconds } from './usage.js';

/** Options of rate(). */
export interface RateOptions {
  /** Price list a tenant is billed by (Tenant.spec.priceList); default "default". */
  priceListOf?: (tenant: string) => string | undefined;
  /** Closed months: "YYYY-MM" → epoch ms it was closed at (see sessions.ts). */
  closedMonths?: ReadonlyMap<string, number>;
  /** vCPUs, memory and storage held by running workspaces, rated where the price list prices them. */
  resources?: readonly ResourceInterval[];
}

/** The tenant's compiled price list, or an empty one with the reason none can be used (missing or invalid list). */
function pricesFor(tenant: string, lists: readonly PriceList[], opts: RateOptions): { prices: CompiledPrices; problem?: string } {
  const name = opts.priceListOf?.(tenant) ?? 'default';
  try {
    return { prices: pricesForTenant(tenant, lists, opts.priceListOf) };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    const currency = lists.find((l) => l.metadata.name === name)?.spec.currency ?? 'EUR';
    return { prices: { name, currency, incrementSec: 1, minimumSec: 0, periods: [] }, problem: why };
  }
}

/** Like findPricesForTenant, but an invalid price list prices nothing instead of throwing (its GPU time shows unpriced). */
function findPricesSafely(tenant: string, lists: readonly PriceList[], opts: RateOptions): CompiledPrices | undefined {
  try {
    return findPricesForTenant(tenant, lists, opts.priceListOf);
  } catch {
    return undefined;
  }
}

interface Acc {
  line: Omit<InvoiceLine, 'gpuHours' | 'quantity' | 'unit' | 'amountMinor' | 'amount' | 'utilization'>;
  utilSum: number;
  utilSec: number;
}

function lineKey(p: { tenant: string; month: string; workspace: string; gpuModel: string; late: boolean }, period: number): string {
  return `${p.tenant}\u0000${p.month}\u0000${p.workspace}\u0000${p.gpuModel}\u0000${period}\u0000${p.late ? 1 : 0}`;
}

/** Why the GPU time of `p` in period `i` (-1: before the first) cannot be priced, or undefined when it can. */
function unpricedWhy(prices: CompiledPrices, p: BillablePart, i: number, problem: string | undefined): string | undefined {
  if (problem !== undefined) return problem;
  if (p.gpuModel === '') return `gpu model of ${p.gpuUuid} unknown: the agent did not report it and no Node declares this GPU`;
  if (i < 0) return `no price before the first period of price list ${prices.name} (${prices.periods[0]?.effectiveFrom ?? 'none'})`;
  const period = prices.periods[i]!;
  return period.gpuHourMicros.has(p.gpuModel) ? undefined : `no price for gpu model "${p.gpuModel}" in price list ${prices.name}, period from ${period.effectiveFrom}`;
}

/**
 * Rates usage intervals: de-duplicates per workspace and GPU, cuts sessions at month ends, applies
 * increment and minimum charge, splits at price periods at the exact second, groups into lines.
 * GPU time that cannot be priced (no price for the model in that period, time before the first period,
 * model unknown, price list missing or invalid) is never billed as free nor refused: it makes a line
 * with `unpriced` (the reason) and amount 0.
 */
export function rate(intervals: readonly UsageInterval[], priceLists: readonly PriceList[], opts: RateOptions = {}): InvoiceLine[] {
  for (const iv of intervals) checkInterval(iv);
  const byTenant = new Map<string, UsageInterval[]>();
  for (const iv of intervals) {
    const list = byTenant.get(iv.tenant) ?? [];
    list.push(iv);
    byTenant.set(iv.tenant, list);
  }
  const accs = new Map<string, Acc>();
  for (const [tenant, ivs] of byTenant) {
    const { prices, problem } = pricesFor(tenant, priceLists, opts);
    const parts = billableParts(ivs, { incrementSec: prices.incrementSec, minimumSec: prices.minimumSec, closedMonths: opts.closedMonths });
    for (const p of parts) {
      let from = p.from;
      while (from < p.to) {
        const i = periodIndexAt(prices, from);
        const to = Math.min(p.to, i < 0 ? (prices.periods[0]?.from ?? p.to) : prices.periods[i]!.to);
        const extra = to === p.to ? p.extraSec : 0;
        addSeconds(accs, prices, p, i, to - from + extra, unpricedWhy(prices, p, i, problem));
        from = to;
      }
    }
    addUtilization(accs, prices, ivs, opts.closedMonths);
  }
  const lines = [...accs.values()].map(finish);
  if (opts.resources !== undefined && opts.resources.length > 0) lines.push(...rateResources(opts.resources, (t) => findPricesSafely(t, priceLists, opts), opts.closedMonths));
  return lines.sort(compareLines);
}

function addSeconds(accs: Map<string, Acc>, prices: CompiledPrices, p: BillablePart, i: number, sec: number, unpriced: string | undefined): void {
  const k = lineKey(p, i);
  const acc = accs.get(k);
  if (acc !== undefined) {
    acc.line.seconds += sec;
    return;
  }
  const period = i < 0 ? undefined : prices.periods[i];
  const unit = unpriced === undefined ? period!.gpuHourMicros.get(p.gpuModel)! : 0n;
  const line: Acc['line'] = {
    tenant: p.tenant, month: p.month, workspace: p.workspace, resource: 'gpu', gpuModel: p.gpuModel, priceList: prices.name, currency: prices.currency,
    periodFrom: period?.effectiveFrom ?? '', late: p.late, seconds: sec, unitPriceMicros: unit, unitPrice: unpriced === undefined ? formatMicros(unit, prices.currency) : '',
  };
  if (unpriced !== undefined) line.unpriced = unpriced;
  accs.set(k, { line, utilSum: 0, utilSec: 0 });
}

/** Per-key state of the utilization pass: which records were seen, and the last line used. */
interface UtilGroup {
  key: UsageKey;
  /** from → to of the records seen (exact duplicates are skipped); `extra` for the rare same-from, other-to. */
  seen: Map<number, number>;
  extra: Set<string>;
  last?: { month: string; period: number; late: boolean; acc: Acc | undefined };
}

/** Measured utilization per line: time-weighted over distinct records (exact duplicates counted once). */
function addUtilization(accs: Map<string, Acc>, prices: CompiledPrices, ivs: UsageInterval[], closed: ReadonlyMap<string, number> | undefined): void {
  const groups = new Map<string, UtilGroup>();
  let g: UtilGroup | undefined;
  for (const iv of ivs) {
    if (iv.utilization === undefined) continue;
    if (g === undefined || !sameKey(g.key, iv)) {
      const k = keyOf(iv);
      g = groups.get(k);
      if (g === undefined) {
        g = { key: iv, seen: new Map(), extra: new Set() };
        groups.set(k, g);
      }
    }
    const seenTo = g.seen.get(iv.from);
    if (seenTo === iv.to) continue;
    if (seenTo === undefined) g.seen.set(iv.from, iv.to);
    else {
      const id = `${iv.from}/${iv.to}`;
      if (g.extra.has(id)) continue;
      g.extra.add(id);
    }
    for (const piece of splitByMonth({ from: toSeconds(iv.from), to: toSeconds(iv.to) })) {
      const target = lateTarget(iv, piece.month, closed);
      const late = target !== undefined;
      const month = target ?? piece.month;
      let from = piece.from;
      while (from < piece.to) {
        const i = periodIndexAt(prices, from);
        const to = i < 0 ? piece.to : Math.min(piece.to, prices.periods[i]!.to);
        const last = g.last;
        let acc: Acc | undefined;
        if (last !== undefined && last.month === month && last.period === i && last.late === late) acc = last.acc;
        else {
          acc = accs.get(lineKey({ tenant: iv.tenant, month, workspace: iv.workspace, gpuModel: iv.gpuModel, late }, i));
          g.last = { month, period: i, late, acc };
        }
        if (acc !== undefined) {
          acc.utilSum += iv.utilization * (to - from);
          acc.utilSec += to - from;
        }
        from = to;
      }
    }
  }
}

function finish(acc: Acc): InvoiceLine {
  const l = acc.line;
  const minor = l.unpriced === undefined ? amountMinor(BigInt(l.seconds), l.unitPriceMicros, l.currency) : 0n;
  const hours = hoursFromSeconds(BigInt(l.seconds));
  const line: InvoiceLine = { ...l, gpuHours: hours, quantity: hours, unit: PRICE_UNIT.gpu, amountMinor: minor, amount: formatMinor(minor, l.currency) };
  if (acc.utilSec > 0) line.utilization = Math.round((acc.utilSum / acc.utilSec) * 10) / 10;
  return line;
}

const RESOURCE_ORDER: Record<BilledResource, number> = { gpu: 0, vcpu: 1, memory: 2, storage: 3 };

/** Stable order of lines: tenant, month, workspace, resource (GPU, vCPU, memory, storage), model, period, on-time before late. */
export function compareLines(a: InvoiceLine, b: InvoiceLine): number {
  const s = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
  return s(a.tenant, b.tenant) || s(a.month, b.month) || s(a.workspace, b.workspace) || RESOURCE_ORDER[a.resource] - RESOURCE_ORDER[b.resource]
    || s(a.gpuModel, b.gpuModel) || s(a.periodFrom, b.periodFrom) || Number(a.late) - Number(b.late);
}

/**
 * Rating: usage intervals plus price lists → invoice lines, one per tenant × month × workspace × GPU model ×
 * price period (× late), and with `resources`, one per workspace × resource (vCPU, memory, storage) ×
 * price period (rate-resources.ts). Pure: no clock, no store. Amounts are exact until rounded once per line.
 */
import type { PriceList } from '../../common/infra/model.js';
import type { CompiledPrices } from './prices.js';
import { findPricesForTenant, periodIndexAt, pricesForTenant } from './prices.js';
import type { BillablePart } from './sessions.js';
import type { UsageKey } from './sessions.js';
import { billableParts, keyOf, lateTarget, sameKey } from './sessions.js';
import type { BilledResource, InvoiceLine, LineHead, OpenLine } from './invoice-line.js';
import { LineAccumulator, lineKey } from './invoice-line.js';
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
  const lines = new LineAccumulator();
  for (const [tenant, ivs] of byTenant) {
    const { prices, problem } = pricesFor(tenant, priceLists, opts);
    const parts = billableParts(ivs, { incrementSec: prices.incrementSec, minimumSec: prices.minimumSec, closedMonths: opts.closedMonths });
    for (const p of parts) {
      let from = p.from;
      while (from < p.to) {
        const i = periodIndexAt(prices, from);
        const to = Math.min(p.to, i < 0 ? (prices.periods[0]?.from ?? p.to) : prices.periods[i]!.to);
        const extra = to === p.to ? p.extraSec : 0;
        addSeconds(lines, prices, p, i, to - from + extra, problem);
        from = to;
      }
    }
    addUtilization(lines, prices, ivs, opts.closedMonths);
  }
  const out = lines.finish();
  if (opts.resources !== undefined && opts.resources.length > 0) out.push(...rateResources(opts.resources, (t) => findPricesSafely(t, priceLists, opts), opts.closedMonths));
  return out.sort(compareLines);
}

/** Adds `sec` GPU-seconds of `p` in price period `i` to its line; the line opened first says its price or why there is none. */
function addSeconds(lines: LineAccumulator, prices: CompiledPrices, p: BillablePart, i: number, sec: number, problem: string | undefined): void {
  lines.add(lineKey('gpu', p, i), sec, 1n, () => {
    const period = i < 0 ? undefined : prices.periods[i];
    const unpriced = unpricedWhy(prices, p, i, problem);
    const head: LineHead = {
      tenant: p.tenant, month: p.month, workspace: p.workspace, resource: 'gpu', gpuModel: p.gpuModel, priceList: prices.name, currency: prices.currency,
      periodFrom: period?.effectiveFrom ?? '', late: p.late, unitPriceMicros: unpriced === undefined ? period!.gpuHourMicros.get(p.gpuModel)! : 0n,
    };
    if (unpriced !== undefined) head.unpriced = unpriced;
    return head;
  });
}

/** Per-key state of the utilization pass: which records were seen, and the last line used. */
interface UtilGroup {
  key: UsageKey;
  /** from → to of the records seen (exact duplicates are skipped); `extra` for the rare same-from, other-to. */
  seen: Map<number, number>;
  extra: Set<string>;
  last?: { month: string; period: number; late: boolean; line: OpenLine | undefined };
}

/** Measured utilization per line: time-weighted over distinct records (exact duplicates counted once). */
function addUtilization(lines: LineAccumulator, prices: CompiledPrices, ivs: UsageInterval[], closed: ReadonlyMap<string, number> | undefined): void {
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
        let line: OpenLine | undefined;
        if (last !== undefined && last.month === month && last.period === i && last.late === late) line = last.line;
        else {
          line = lines.get(lineKey('gpu', { tenant: iv.tenant, month, workspace: iv.workspace, gpuModel: iv.gpuModel, late }, i));
          g.last = { month, period: i, late, line };
        }
        if (line !== undefined) {
          line.utilSum += iv.utilization * (to - from);
          line.utilSec += to - from;
        }
        from = to;
      }
    }
  }
}

const RESOURCE_ORDER: Record<BilledResource, number> = { gpu: 0, vcpu: 1, memory: 2, storage: 3 };

/** Stable order of lines: tenant, month, workspace, resource (GPU, vCPU, memory, storage), model, period, on-time before late. */
export function compareLines(a: InvoiceLine, b: InvoiceLine): number {
  const s = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
  return s(a.tenant, b.tenant) || s(a.month, b.month) || s(a.workspace, b.workspace) || RESOURCE_ORDER[a.resource] - RESOURCE_ORDER[b.resource]
    || s(a.gpuModel, b.gpuModel) || s(a.periodFrom, b.periodFrom) || Number(a.late) - Number(b.late);
}

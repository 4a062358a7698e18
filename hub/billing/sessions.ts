/**
 * From raw usage intervals to billable parts: de-duplication, sessions, month cuts, late records.
 * One machinery for every meter: GPU intervals (GPU_METER: tenant, workspace, GPU UUID and model) and
 * resource intervals (RESOURCE_METER in rate-resources.ts: tenant, workspace, node, resource, quantity),
 * each with its own fields — nothing is encoded into another's.
 *
 * A session is a maximal run of time during which one workspace held one meter (for GPUs: same tenant,
 * workspace, GPU UUID and model): the union of its intervals, where overlapping or touching intervals (a.to ≥ b.from)
 * join. A gap of even one second starts a new session; so does a move to another GPU or node.
 * Each session is cut at UTC month boundaries into parts (one per invoice). Each part is rounded up to
 * the billing increment; only the part holding the session's real start is raised to the minimum charge,
 * so a session running across a month end never pays the minimum twice.
 */
import type { Span, UsageInterval } from './usage.js';
import { splitByMonth, nextMonth, toSeconds } from './usage.js';

/** What the session machinery needs of an interval: its span in epoch ms and when it arrived (lateness). */
export interface MeteredInterval {
  tenant: string;
  from: number;
  to: number;
  receivedAt?: number;
  lateTo?: Readonly<Record<string, string>>;
}

/** A kind of usage: which intervals belong to one run of the same thing held (a GPU, or a quantity of a resource). */
export interface Meter<T extends MeteredInterval> {
  /** Unique key of the run an interval belongs to. */
  key(iv: T): string;
  /** key(a) === key(b), without building the strings (records of one run usually come in a row). */
  same(a: T, b: T): boolean;
}

/** Identity of a run of GPU usage: who held which GPU. */
export interface UsageKey {
  tenant: string;
  workspace: string;
  gpuUuid: string;
  gpuModel: string;
}

/** One billable part of a run: a contiguous span in one invoice month, plus seconds added by increment or minimum; `of` names the run (its first interval). */
export interface MeteredPart<T> extends Span {
  of: T;
  /** Invoice month the part is billed in, "YYYY-MM". */
  month: string;
  /** True when the time lies in a closed month and was moved to this (open) month. */
  late: boolean;
  /** Seconds added on top of to − from by rounding up to the increment and by the minimum charge. */
  extraSec: number;
}

/** One billable part of GPU time. */
export interface BillablePart extends UsageKey, Span {
  /** Invoice month the part is billed in, "YYYY-MM". */
  month: string;
  /** True when the time lies in a closed month and was moved to this (open) month. */
  late: boolean;
  /** Seconds added on top of to − from by rounding up to the increment and by the minimum charge. */
  extraSec: number;
}

/** Options for the session cutting. */
export interface SessionOptions {
  incrementSec: number;
  minimumSec: number;
  /** Closed months: "YYYY-MM" → epoch ms the month was closed at. */
  closedMonths?: ReadonlyMap<string, number>;
}

/** Unique key string of a UsageKey. */
export function keyOf(k: UsageKey): string {
  return `${k.tenant}\u0000${k.workspace}\u0000${k.gpuUuid}\u0000${k.gpuModel}`;
}

/** True when two usage keys are the same. */
export function sameKey(a: UsageKey, b: UsageKey): boolean {
  return a.gpuUuid === b.gpuUuid && a.workspace === b.workspace && a.tenant === b.tenant && a.gpuModel === b.gpuModel;
}

/** GPU time: one run per tenant, workspace, GPU UUID and model. */
export const GPU_METER: Meter<UsageInterval> = { key: keyOf, same: sameKey };

/** Union of spans: sorted, overlapping or touching spans joined. */
export function unionSpans(spans: Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a.from - b.from || a.to - b.to);
  const out: Span[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && s.from <= last.to) last.to = Math.max(last.to, s.to);
    else out.push({ from: s.from, to: s.to });
  }
  return out;
}

/** a minus b, both unions (sorted, disjoint). */
export function subtractSpans(a: Span[], b: Span[]): Span[] {
  const out: Span[] = [];
  let j = 0;
  for (const s of a) {
    let from = s.from;
    while (j < b.length && (b[j] as Span).to <= from) j++;
    let k = j;
    while (k < b.length && (b[k] as Span).from < s.to) {
      const cut = b[k] as Span;
      if (cut.from > from) out.push({ from, to: cut.from });
      from = Math.max(from, cut.to);
      k++;
    }
    if (from < s.to) out.push({ from, to: s.to });
  }
  return out;
}

/** True when month `m` was closed before `at` (epoch ms): closed with closedAt < at. */
function closedBefore(m: string, closed: ReadonlyMap<string, number>, at: number): boolean {
  const closedAt = closed.get(m);
  return closedAt !== undefined && closedAt < at;
}

/**
 * The invoice month of the piece of `iv` used in `month` when that piece is late, else undefined.
 * Decided once, as of the record's arrival: the piece is late when `month` was closed before the record
 * arrived, and it is billed on the first month at or after `month` that was still open when it arrived.
 * Closes after the arrival change nothing. `iv.lateTo` (the hub's assignment persisted at arrival) wins;
 * without it, `closedMonths` and `receivedAt` decide (no receivedAt: on time).
 */
export function lateTarget(iv: Pick<MeteredInterval, 'receivedAt' | 'lateTo'>, month: string, closed: ReadonlyMap<string, number> | undefined): string | undefined {
  if (iv.lateTo !== undefined) return iv.lateTo[month];
  if (closed === undefined || iv.receivedAt === undefined) return undefined;
  const at = iv.receivedAt;
  if (!closedBefore(month, closed, at)) return undefined;
  let m = month;
  while (closedBefore(m, closed, at)) m = nextMonth(m);
  return m;
}


/** A piece of a usage interval inside one UTC month, with the invoice month it is billed in. */
export interface RoutedPiece {
  interval: UsageInterval;
  /** The piece, whole epoch seconds. */
  from: number;
  to: number;
  /** The calendar month the time lies in. */
  usedIn: string;
  /** The month whose invoice carries it: usedIn, or the first open month after it when late. */
  invoiceMonth: string;
  late: boolean;
}

/**
 * Where each interval's time is invoiced: cut at UTC month ends; a piece in a month closed before it
 * arrived moves to the first month open at its arrival, marked late (lateTarget). rate()
 * applies the same rule (and also subtracts time already billed on time); this is the listing for people.
 */
export function routeToInvoiceMonths(intervals: readonly UsageInterval[], closedMonths: ReadonlyMap<string, number>): RoutedPiece[] {
  const out: RoutedPiece[] = [];
  for (const iv of intervals) {
    for (const p of splitByMonth({ from: toSeconds(iv.from), to: toSeconds(iv.to) })) {
      const target = lateTarget(iv, p.month, closedMonths);
      out.push({ interval: iv, from: p.from, to: p.to, usedIn: p.month, invoiceMonth: target ?? p.month, late: target !== undefined });
    }
  }
  return out;
}

function roundUp(sec: number, inc: number): number {
  return Math.ceil(sec / inc) * inc;
}

interface Grouped<T> {
  of: T;
  onTime: Span[];
  /** Late spans by the open month they move to. */
  late: Map<string, Span[]>;
}

/** Groups intervals by their meter's key, in whole seconds, each piece marked on-time or late (by target month). */
function group<T extends MeteredInterval>(intervals: readonly T[], meter: Meter<T>, closed: ReadonlyMap<string, number> | undefined): Map<string, Grouped<T>> {
  const groups = new Map<string, Grouped<T>>();
  let prev: Grouped<T> | undefined;
  for (const iv of intervals) {
    const from = toSeconds(iv.from);
    const to = toSeconds(iv.to);
    if (to <= from) continue;
    // records of one run usually come in a row: reuse the previous group without building its key
    let g = prev !== undefined && meter.same(prev.of, iv) ? prev : undefined;
    if (g === undefined) {
      const k = meter.key(iv);
      g = groups.get(k);
      if (g === undefined) {
        g = { of: iv, onTime: [], late: new Map() };
        groups.set(k, g);
      }
      prev = g;
    }
    if ((closed === undefined || closed.size === 0) && iv.lateTo === undefined) {
      g.onTime.push({ from, to });
      continue;
    }
    for (const piece of splitByMonth({ from, to })) {
      const target = lateTarget(iv, piece.month, closed);
      if (target === undefined) {
        g.onTime.push({ from: piece.from, to: piece.to });
        continue;
      }
      const list = g.late.get(target) ?? [];
      list.push({ from: piece.from, to: piece.to });
      g.late.set(target, list);
    }
  }
  return groups;
}

/**
 * Cuts intervals into billable parts (see the module comment). Late time (see lateTarget) is billed on
 * its invoice month, marked late, minus what an earlier invoice already billed: on-time time, and late
 * time assigned to an earlier invoice month (frozen before this record arrived). Each late run is rounded
 * up to the increment but never raised to the minimum charge (its session already paid it).
 */
export function meteredParts<T extends MeteredInterval>(intervals: readonly T[], meter: Meter<T>, opts: SessionOptions): MeteredPart<T>[] {
  const out: MeteredPart<T>[] = [];
  const inc = opts.incrementSec;
  const part = (of: T, from: number, to: number, month: string, late: boolean, extraSec: number): MeteredPart<T> => ({ of, from, to, month, late, extraSec });
  for (const g of group(intervals, meter, opts.closedMonths).values()) {
    const onTime = unionSpans(g.onTime);
    for (const session of onTime) {
      const parts = splitByMonth(session);
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i] as Span & { month: string };
        const len = p.to - p.from;
        const billed = i === 0 ? Math.max(roundUp(len, inc), opts.minimumSec) : roundUp(len, inc);
        out.push(part(g.of, p.from, p.to, p.month, false, billed - len));
      }
    }
    // ascending invoice month: each month's late time minus everything billed on an earlier invoice
    let billed = onTime;
    for (const month of [...g.late.keys()].sort()) {
      const spans = unionSpans(g.late.get(month) as Span[]);
      for (const run of subtractSpans(spans, billed)) {
        const len = run.to - run.from;
        out.push(part(g.of, run.from, run.to, month, true, roundUp(len, inc) - len));
      }
      billed = unionSpans([...billed, ...spans]);
    }
  }
  return out;
}

/** meteredParts for GPU time, the parts flattened with their GPU key. */
export function billableParts(intervals: readonly UsageInterval[], opts: SessionOptions): BillablePart[] {
  return meteredParts(intervals, GPU_METER, opts).map(({ of, from, to, month, late, extraSec }) => ({ tenant: of.tenant, workspace: of.workspace, gpuUuid: of.gpuUuid, gpuModel: of.gpuModel, from, to, month, late, extraSec }));
}

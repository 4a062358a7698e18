/**
 * Coalescing of raw usage records: agents report every 10 s, so a GPU-month is ~268k records; joined
 * back-to-back (or overlapping) records of the same workspace and GPU become one interval, which is what
 * rating needs. Lossless for billing: rate() of the result equals rate() of the input.
 */
import { GPU_METER, lateTarget, type Meter, type MeteredInterval } from './sessions.js';
import type { UsageInterval } from './usage.js';
import { monthRangeOf, splitByMonth, toSeconds } from './usage.js';

/** What coalescing needs of an interval: a metered span, optionally with a measured utilization. */
type Coalescible = MeteredInterval & { utilization?: number };

interface Run<T extends Coalescible> {
  iv: T;
  /** Epoch second the run's UTC month ends: runs never grow past it, so receivedAt keeps its meaning per month. */
  monthEnd: number;
  lateClass: string;
  utilSum: number;
  utilMs: number;
}

/** Which months a record is late for and where each goes ('' for almost every record): records of different classes never merge. */
function lateClassOf(iv: Coalescible, closed: ReadonlyMap<string, number> | undefined): string {
  if ((closed === undefined || closed.size === 0) && iv.lateTo === undefined) return '';
  const out: string[] = [];
  for (const p of splitByMonth({ from: toSeconds(iv.from), to: Math.max(toSeconds(iv.to), toSeconds(iv.from) + 1) })) {
    const target = lateTarget(iv, p.month, closed);
    if (target !== undefined) out.push(`${p.month}>${target}`);
  }
  return out.join(',');
}

/**
 * Joins records per (tenant, workspace, GPU, model) in the order given: a record that starts at or before
 * the end of the key's current run (and not before its start) extends it; anything else starts a new run.
 * A run never grows past the end of its UTC month. Merged runs take the latest receivedAt and the
 * time-weighted mean utilization. Records late for a closed month (see `closedMonths`) are never merged
 * with on-time ones, so lateness is preserved.
 */
export function coalesce(records: Iterable<UsageInterval>, closedMonths?: ReadonlyMap<string, number>): UsageInterval[] {
  return coalesceMetered(records, GPU_METER, closedMonths);
}

/** coalesce() for any meter (resource intervals: rate-resources.ts): the same rule, runs keyed by `meter`. */
export function coalesceMetered<T extends Coalescible>(records: Iterable<T>, meter: Meter<T>, closedMonths?: ReadonlyMap<string, number>): T[] {
  const open = new Map<string, Run<T>>();
  const done: Run<T>[] = [];
  let last: Run<T> | undefined;
  let lastKey = '';
  for (const r of records) {
    const cls = lateClassOf(r, closedMonths);
    // a GPU's records usually come in a row: try the last run before building a key
    const hit = last !== undefined && meter.same(last.iv, r);
    const k = hit ? lastKey : meter.key(r);
    const run = hit ? last : open.get(k);
    if (run !== undefined && run.lateClass === cls && r.from >= run.iv.from && r.from <= run.iv.to && toSeconds(r.to) <= run.monthEnd) {
      run.iv.to = Math.max(run.iv.to, r.to);
      if (r.receivedAt !== undefined) run.iv.receivedAt = Math.max(run.iv.receivedAt ?? r.receivedAt, r.receivedAt);
      if (r.utilization !== undefined) {
        run.utilSum += r.utilization * (r.to - r.from);
        run.utilMs += r.to - r.from;
      }
      last = run;
      lastKey = k;
      continue;
    }
    if (run !== undefined) done.push(run);
    lastKey = k;
    last = {
      iv: { ...r },
      monthEnd: monthRangeOf(toSeconds(r.from)).end,
      lateClass: cls,
      utilSum: r.utilization === undefined ? 0 : r.utilization * (r.to - r.from),
      utilMs: r.utilization === undefined ? 0 : r.to - r.from,
    };
    open.set(k, last);
  }
  done.push(...open.values());
  return done.map((run) => {
    const iv = run.iv;
    if (run.utilMs > 0) iv.utilization = run.utilSum / run.utilMs;
    else delete iv.utilization;
    return iv;
  });
}

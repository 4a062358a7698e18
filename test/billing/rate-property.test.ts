/**
 * Property test: random months of usage (many workspaces, start/stop/move between nodes, price changes,
 * duplicated and reordered deliveries, late records after a month was closed, agents offline for hours)
 * are rated by rate() + buildInvoice(), and compared to the cent with an invoice computed independently
 * from the generated ground truth, second by second, with sets of held seconds instead of span arithmetic.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PriceList } from '../../common/infra/model.js';
import { coalesce } from '../../hub/billing/coalesce.js';
import { buildInvoice } from '../../hub/billing/invoice.js';
import { rate } from '../../hub/billing/rate.js';
import type { UsageInterval } from '../../hub/billing/usage.js';

const H100 = 'NVIDIA H100 80GB HBM3';
const L40 = 'NVIDIA L40S';
const GPUS = [
  { uuid: 'GPU-00000001', node: 'gpu-01', model: H100 },
  { uuid: 'GPU-00000002', node: 'gpu-01', model: H100 },
  { uuid: 'GPU-00000003', node: 'gpu-02', model: H100 },
  { uuid: 'GPU-00000004', node: 'gpu-02', model: L40 },
  { uuid: 'GPU-00000005', node: 'gpu-03', model: L40 },
];
const NODES = ['gpu-01', 'gpu-02', 'gpu-03'];
const TENANTS = ['acme', 'beta', 'gamma'];
/** Ground-truth span in seconds around a month end (the month ends at base + 3 h). */
const SPAN = 6 * 3600;
const BASES = ['2026-01-31T21:00:00Z', '2028-02-29T21:00:00Z', '2026-12-31T21:00:00Z'].map((s) => Date.parse(s) / 1000);

const micros = fc.integer({ min: 1, max: 9_999_999 }).map((n) => `${Math.floor(n / 1e6)}.${String(n % 1e6).padStart(6, '0')}`);
const world = fc.record({
  base: fc.constantFrom(...BASES),
  workspaces: fc.array(
    fc.record({
      tenant: fc.constantFrom(...TENANTS),
      segments: fc.array(fc.record({ gpu: fc.nat(GPUS.length - 1), start: fc.nat(SPAN - 1), len: fc.integer({ min: 1, max: 3600 }) }), { minLength: 1, maxLength: 4 }),
    }),
    { minLength: 1, maxLength: 6 },
  ),
  offline: fc.array(fc.record({ node: fc.constantFrom(...NODES), start: fc.nat(SPAN), len: fc.integer({ min: 60, max: 3 * 3600 }) }), { maxLength: 2 }),
  priceChanges: fc.array(fc.record({ at: fc.integer({ min: 1, max: SPAN }), h100: micros, l40: micros }), { maxLength: 3 }),
  firstPrices: fc.record({ h100: micros, l40: micros }),
  chops: fc.array(fc.integer({ min: 1, max: 900 }), { minLength: 1, maxLength: 12 }),
  jitter: fc.array(fc.nat(999), { minLength: 1, maxLength: 7 }),
  dups: fc.array(fc.nat(4), { minLength: 1, maxLength: 9 }),
  order: fc.array(fc.nat(1_000_000), { minLength: 1, maxLength: 50 }),
  delays: fc.array(fc.oneof(fc.nat(600), fc.nat(8 * 3600)), { minLength: 1, maxLength: 13 }),
  closeAfter: fc.option(fc.nat(4 * 3600), { nil: undefined }),
  minuteTenant: fc.constantFrom(...TENANTS),
});
type World = typeof world extends fc.Arbitrary<infer T> ? T : never;

function priceLists(w: World): PriceList[] {
  const changes = [...new Map(w.priceChanges.map((c) => [c.at, c])).values()];
  const periods: PriceList['spec']['periods'] = [
    { effectiveFrom: new Date((w.base - 86400) * 1000).toISOString(), gpuHour: { [H100]: w.firstPrices.h100, [L40]: w.firstPrices.l40 } },
    ...changes.map((c) => ({ effectiveFrom: new Date((w.base + c.at) * 1000).toISOString(), gpuHour: { [H100]: c.h100, [L40]: c.l40 } })),
  ];
  const doc = (name: string, extra: object): PriceList => ({ apiVersion: 'foundry.cloud/v1', kind: 'PriceList', metadata: { name }, spec: { currency: 'EUR', periods, ...extra } });
  return [doc('default', {}), doc('minute', { increment: '1m', minimumCharge: '5m' })];
}

const monthEndAfter = (w: World): number => w.base + 3 * 3600;
const firstMonth = (w: World): string => new Date(w.base * 1000).toISOString().slice(0, 7);

/** What the agents would deliver: measured time chopped into records, jittered, duplicated, reordered, some late. */
function deliveries(w: World): UsageInterval[] {
  const out: UsageInterval[] = [];
  let n = 0;
  const pick = <T,>(xs: T[]): T => xs[n++ % xs.length] as T;
  w.workspaces.forEach((ws, i) => {
    for (const seg of ws.segments) {
      const gpu = GPUS[seg.gpu]!;
      const from = w.base + seg.start;
      const to = Math.min(w.base + SPAN, from + seg.len);
      let t = from;
      while (t < to) {
        const end = Math.min(to, t + pick(w.chops));
        for (let s = t; s < end; s++) {
          // offline seconds produce no records: cut the record around them
          if (w.offline.some((o) => o.node === gpu.node && s >= w.base + o.start && s < w.base + o.start + o.len)) continue;
          let e = s + 1;
          while (e < end && !w.offline.some((o) => o.node === gpu.node && e >= w.base + o.start && e < w.base + o.start + o.len)) e++;
          const jf = pick(w.jitter);
          const jt = pick(w.jitter);
          const rec: UsageInterval = { workspace: `${ws.tenant}-ws${i}`, tenant: ws.tenant, node: gpu.node, gpuUuid: gpu.uuid, gpuModel: gpu.model,
            from: s * 1000 + jf, to: e * 1000 + jt, receivedAt: (e + pick(w.delays)) * 1000 };
          out.push(rec);
          // a duplicate is a re-delivery: it may arrive much later (after a reconnect), even after the month closed
          if (pick(w.dups) === 0) out.push({ ...rec, receivedAt: (e + pick(w.delays) + pick(w.delays)) * 1000 });
          s = e - 1;
        }
        t = end;
      }
    }
  });
  const keyed = out.map((r, i) => ({ r, k: w.order[i % w.order.length]! * 100 + i }));
  return keyed.sort((a, b) => a.k - b.k).map((x) => x.r);
}

interface ExpectedLine { tenant: string; month: string; workspace: string; gpuModel: string; periodFrom: string; late: boolean; seconds: number; microSec: bigint }

/** The expected lines, second by second from the delivered records (what was measured is what is billed). */
function expected(w: World, recs: UsageInterval[], lists: PriceList[], closed: Map<string, number>): ExpectedLine[] {
  // prices have at most 6 decimals, so Math.round(x × 1e6) recovers the micro-units exactly
  const periods = lists[0]!.spec.periods
    .map((p) => ({ from: Date.parse(p.effectiveFrom) / 1000, p, micros: new Map(Object.entries(p.gpuHour).map(([m, v]) => [m, BigInt(Math.round(Number(v) * 1e6))])) }))
    .sort((a, b) => b.from - a.from);
  const periodAt = (s: number) => periods.find((x) => x.from <= s)!;
  const calendarMonth = (s: number): string => new Date(s * 1000).toISOString().slice(0, 7);
  const [before, after] = [calendarMonth(w.base), calendarMonth(w.base + SPAN)];
  const monthOf = (s: number): string => (s < monthEndAfter(w) ? before : after);
  const nextOpen = (m: string): string => { let x = m; while (closed.has(x)) x = calendarMonth(Date.parse(`${x}-01T00:00:00Z`) / 1000 + 32 * 86400); return x; };
  const onTime = new Map<string, Set<number>>();
  const late = new Map<string, Set<number>>(); // key + target month
  for (const r of recs) {
    const k = [r.tenant, r.workspace, r.gpuUuid, r.gpuModel].join('|');
    for (let s = Math.floor(r.from / 1000); s < Math.floor(r.to / 1000); s++) {
      const closedAt = closed.get(monthOf(s));
      if (closedAt !== undefined && r.receivedAt! > closedAt) {
        const lk = `${k}|${nextOpen(monthOf(s))}`;
        if (!late.has(lk)) late.set(lk, new Set());
        late.get(lk)!.add(s);
      } else {
        if (!onTime.has(k)) onTime.set(k, new Set());
        onTime.get(k)!.add(s);
      }
    }
  }
  const lines = new Map<string, ExpectedLine>();
  const add = (k: string, month: string, isLate: boolean, s: number, secs: number): void => {
    const [tenant, workspace, , gpuModel] = k.split('|') as [string, string, string, string];
    const per = periodAt(s);
    const lk = [tenant, month, workspace, gpuModel, per.from, isLate].join('|');
    const price = per.micros.get(gpuModel)!;
    const line = lines.get(lk) ?? { tenant, month, workspace, gpuModel, periodFrom: new Date(per.from * 1000).toISOString().replace('.000Z', 'Z'), late: isLate, seconds: 0, microSec: 0n };
    line.seconds += secs;
    line.microSec += price * BigInt(secs);
    lines.set(lk, line);
  };
  const runsOf = (set: Set<number>, split: boolean): number[][] => {
    const secs = [...set].sort((a, b) => a - b);
    const runs: number[][] = [];
    for (const s of secs) {
      const cur = runs[runs.length - 1];
      const prev = cur?.[cur.length - 1];
      if (cur !== undefined && prev === s - 1 && (!split || monthOf(s) === monthOf(prev))) cur.push(s);
      else runs.push([s]);
    }
    return runs;
  };
  for (const [k, set] of onTime) {
    const minute = k.split('|')[0] === w.minuteTenant;
    for (const run of runsOf(set, true)) {
      const first = run[0]!;
      const startsSession = !set.has(first - 1);
      for (const s of run) add(k, monthOf(s), false, s, 1); // one second at a time, on purpose
      const inc = minute ? 60 : 1;
      const billed = Math.max(Math.ceil(run.length / inc) * inc, minute && startsSession ? 300 : 0);
      const last = run[run.length - 1]!;
      if (billed > run.length) add(k, monthOf(last), false, last, billed - run.length);
    }
  }
  for (const [lk, set] of late) {
    const parts = lk.split('|');
    const target = parts.pop()!;
    const k = parts.join('|');
    const minute = parts[0] === w.minuteTenant;
    const own = onTime.get(k) ?? new Set<number>();
    const left = new Set([...set].filter((s) => !own.has(s)));
    for (const run of runsOf(left, false)) {
      for (const s of run) add(k, target, true, s, 1);
      const inc = minute ? 60 : 1;
      const billed = Math.ceil(run.length / inc) * inc;
      if (billed > run.length) add(k, target, true, run[run.length - 1]!, billed - run.length);
    }
  }
  return [...lines.values()];
}

describe('rate() against an independent second-by-second invoice', () => {
  it('matches to the cent for random months', () => {
    fc.assert(
      fc.property(world, (w) => {
        const lists = priceLists(w);
        const closed = new Map<string, number>();
        if (w.closeAfter !== undefined) closed.set(firstMonth(w), (monthEndAfter(w) + w.closeAfter) * 1000);
        const recs = deliveries(w);
        const lines = rate(recs, lists, { closedMonths: closed, priceListOf: (t) => (t === w.minuteTenant ? 'minute' : 'default') });
        const want = expected(w, recs, lists, closed);
        // coalescing the raw records first (what the hub does to keep a month small) changes nothing billed
        const strip = (ls: typeof lines) => ls.map(({ utilization: _u, ...rest }) => rest);
        expect(strip(rate(coalesce(recs, closed), lists, { closedMonths: closed, priceListOf: (t) => (t === w.minuteTenant ? 'minute' : 'default') }))).toEqual(strip(lines));
        const months = [...new Set([...lines, ...want].map((l) => l.month))].sort();
        for (const tenant of TENANTS) {
          for (const month of months) {
            const inv = buildInvoice(tenant, month, lines);
            const mine = want.filter((l) => l.tenant === tenant && l.month === month);
            const cents = (microSec: bigint): bigint => (microSec + 18_000_000n) / 36_000_000n; // ÷3600 s/h ÷10^4 µ/cent, half up
            const wantLines = mine
              .map((l) => ({ workspace: l.workspace, gpuModel: l.gpuModel, periodFrom: l.periodFrom, late: l.late, seconds: l.seconds, cents: cents(l.microSec) }))
              .sort((a, b) => (a.workspace + a.gpuModel + a.periodFrom + Number(a.late) < b.workspace + b.gpuModel + b.periodFrom + Number(b.late) ? -1 : 1));
            const gotLines = inv.lines.map((l) => ({ workspace: l.workspace, gpuModel: l.gpuModel, periodFrom: l.periodFrom, late: l.late, seconds: l.seconds, cents: BigInt(l.amount.replace('.', '')) }));
            expect(gotLines).toEqual(wantLines);
            expect(inv.totals.amountMinor).toBe(wantLines.reduce((a, l) => a + l.cents, 0n).toString());
          }
        }
      }),
      { numRuns: 120 },
    );
  });
});

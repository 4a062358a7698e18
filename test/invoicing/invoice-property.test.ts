/**
 * Property: what the hub invoices from its store equals an independent second-by-second count of the
 * generated ground truth, to the cent, whatever the duplicates (same seq resent, same interval under a
 * new seq), the arrival order and the month boundaries. Runs through the real store (SQLite) and the
 * hub's conversion, coalescing and rating. Second property: with late records across several month
 * closes, in any order of arrivals and closes, every second is billed on exactly one invoice.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { HubStore } from '../../hub/store/hub-store.js';
import { Invoicer } from '../../hub/invoicing/invoicer.js';
import { repoOf } from '../support/infra-repo.js';

const MODEL = 'NVIDIA H100 80GB HBM3';
const PRICE_MICROS = 2_490_000n; // 2.49 EUR per GPU-hour
const MARCH = Date.UTC(2026, 2, 1);
const APRIL = Date.UTC(2026, 3, 1);

const repo = repoOf([
  { kind: 'Tenant', metadata: { name: 'acme' }, spec: { displayName: 'ACME' } },
  // GPU-3 is declared nowhere: records without a model for it make unpriced lines
  { kind: 'Node', metadata: { name: 'n1' }, spec: { profile: 'gpu-node', gpus: [{ uuid: 'GPU-1', model: MODEL }, { uuid: 'GPU-2', model: MODEL }] } },
  { kind: 'PriceList', metadata: { name: 'default' }, spec: { currency: 'EUR', periods: [{ effectiveFrom: '2026-01-01T00:00:00Z', gpuHour: { [MODEL]: '2.49' } }] } },
]);

/** A stretch of held GPU time in seconds from the start of March (may run into April). */
const stretch = fc.record({ ws: fc.constantFrom('w1', 'w2', 'w3'), gpu: fc.constantFrom('GPU-1', 'GPU-2'), start: fc.integer({ min: 0, max: 31 * 86_400 - 1 }), len: fc.integer({ min: 1, max: 4 * 3600 }) });

function roundHalfUp(num: bigint, den: bigint): bigint {
  const q = num / den;
  return 2n * (num % den) >= den ? q + 1n : q;
}

describe('hub invoice from stored records (property)', () => {
  it('matches an independent second-by-second count to the cent', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stretch, { minLength: 1, maxLength: 12 }), fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 0, maxLength: 6 }), fc.integer(), async (stretches, dupPicks, seed) => {
        const store = new HubStore(':memory:');
        try {
          // ground truth: the seconds of March each workspace held each GPU
          const truth = new Map<string, Set<number>>();
          // records: each stretch cut into 10-minute pieces, as agents report
          const items: Array<{ node: string; seq: number; kind: 'usage'; payload: unknown }> = [];
          let seq = 0;
          for (const s of stretches) {
            const set = truth.get(s.ws) ?? new Set<number>();
            for (let t = s.start; t < s.start + s.len; t++) if (MARCH + t * 1000 < APRIL) set.add(s.gpu === 'GPU-1' ? t : -t - 1);
            truth.set(s.ws, set);
            for (let from = s.start; from < s.start + s.len; from += 600) {
              const to = Math.min(from + 600, s.start + s.len);
              items.push({ node: 'n1', seq: ++seq, kind: 'usage', payload: { workspace: s.ws, tenant: 'acme', gpuUuid: s.gpu, gpuModel: seq % 3 === 0 ? null : MODEL, from: MARCH + from * 1000, to: MARCH + to * 1000 } });
            }
          }
          // duplicates: a resend of the same seq, and the same interval under a new seq
          for (const p of dupPicks) {
            const it = items[p % items.length]!;
            items.push({ ...it });
            items.push({ ...it, seq: ++seq });
          }
          // arrival order shuffled by the seed
          let x = seed >>> 0;
          for (let i = items.length - 1; i > 0; i--) {
            x = (x * 1103515245 + 12345) >>> 0;
            const j = x % (i + 1);
            [items[i], items[j]] = [items[j]!, items[i]!];
          }
          for (const it of items) await store.ingest([it]);

          const inv = (await new Invoicer(store.billing).invoice(repo, 'acme', '2026-03')).invoice;
          const expected = [...truth]
            .filter(([, set]) => set.size > 0)
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([ws, set]) => ({ workspace: ws, seconds: set.size, minor: roundHalfUp(BigInt(set.size) * PRICE_MICROS, 3600n * 10_000n) }));
          expect(inv.lines.map((l) => ({ workspace: l.workspace, seconds: l.seconds }))).toEqual(expected.map(({ workspace, seconds }) => ({ workspace, seconds })));
          expect(inv.totals.amountMinor).toBe(expected.reduce((a, e) => a + e.minor, 0n).toString());
        } finally {
          await store.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});

/** A stretch anywhere from January to April 2026 (seconds from January 1st), on a priced or an unpriced GPU. */
const lateStretch = fc.record({ ws: fc.constantFrom('w1', 'w2'), gpu: fc.constantFrom('GPU-1', 'GPU-2', 'GPU-3'), start: fc.integer({ min: 0, max: 120 * 86_400 - 1 }), len: fc.integer({ min: 1, max: 2 * 3600 }) });
const JAN = Date.UTC(2026, 0, 1);
const CLOSABLE = ['2026-01', '2026-02', '2026-03', '2026-04'];
const MONTHS = [...CLOSABLE, '2026-05'];

describe('late records across several month closes (property)', () => {
  it('bill every distinct second exactly once over all invoices, whatever the order of arrivals and closes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(lateStretch, { minLength: 1, maxLength: 10 }),
        // resends (same seq, and the same interval under a new seq): many, so some land after two closes
        fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 40 }),
        fc.integer(),
        // where each close happens in the arrival sequence (0..1 of the way), and in which order the months close
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 4, maxLength: 4 }),
        fc.shuffledSubarray(CLOSABLE, { minLength: 0, maxLength: 4 }),
        async (stretches, dupPicks, seed, closeAt, closeOrder) => {
          const now = Date.UTC(2026, 5, 1);
          const store = new HubStore(':memory:', { now: () => new Date(now) });
          try {
            const truth = new Set<string>();
            const items: Array<{ node: string; seq: number; kind: 'usage'; payload: unknown }> = [];
            let seq = 0;
            for (const s of stretches) {
              for (let t = s.start; t < s.start + s.len; t++) truth.add(`${s.ws}/${s.gpu}/${t}`);
              for (let from = s.start; from < s.start + s.len; from += 600) {
                const to = Math.min(from + 600, s.start + s.len);
                items.push({ node: 'n1', seq: ++seq, kind: 'usage', payload: { workspace: s.ws, tenant: 'acme', gpuUuid: s.gpu, gpuModel: s.gpu === 'GPU-3' || seq % 3 === 0 ? null : MODEL, from: JAN + from * 1000, to: JAN + to * 1000 } });
              }
            }
            let x = seed >>> 0;
            for (let i = items.length - 1; i > 0; i--) {
              x = (x * 1103515245 + 12345) >>> 0;
              const j = x % (i + 1);
              [items[i], items[j]] = [items[j]!, items[i]!];
            }
            // resends come after a reconnect: later than the original, so often after one more close
            const originals = items.length;
            for (const p of dupPicks) {
              const it = items[p % originals]!;
              items.push({ ...it });
              items.push({ ...it, seq: ++seq });
            }
            const invoicer = new Invoicer(store.billing, () => now);
            const closes = closeOrder.map((month, i) => ({ month, at: Math.floor(closeAt[i]! * items.length) })).sort((a, b) => a.at - b.at);
            let c = 0;
            for (const [i, it] of items.entries()) {
              while (c < closes.length && closes[c]!.at <= i) await invoicer.close(repo, closes[c++]!.month, 'admin');
              await store.ingest([it]);
            }
            while (c < closes.length) await invoicer.close(repo, closes[c++]!.month, 'admin');

            let priced = 0;
            let unpriced = 0;
            for (const month of MONTHS) {
              for (const l of (await invoicer.invoice(repo, 'acme', month)).invoice.lines) {
                if (l.unpriced === undefined) priced += l.seconds;
                else unpriced += l.seconds;
              }
            }
            const want = [...truth].reduce((acc, k) => (k.includes('/GPU-3/') ? { ...acc, unpriced: acc.unpriced + 1 } : { ...acc, priced: acc.priced + 1 }), { priced: 0, unpriced: 0 });
            expect({ priced, unpriced }).toEqual(want);
          } finally {
            await store.close();
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

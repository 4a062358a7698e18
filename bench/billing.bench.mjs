#!/usr/bin/env node
// Billing: a month (March 2026, 31 days) of 1,000 GPUs across 200 tenants, usage at 10 s resolution.
// 1,000 GPU-months at 10 s are up to 268 M records, too many to hold in memory, so the hub coalesces
// back-to-back records (coalesce()) and rates intervals. Measured here:
//   - rate() + buildInvoice() + CSV for all 200 tenants from the coalesced month (target < 2 s),
//   - coalesce() of raw 10 s records, per GPU-month, scaled to 1,000 GPU-months (stated as scaled),
//   - rate() straight on raw 10 s records, per GPU-month, scaled the same way (why coalescing matters),
//   - storage per GPU-month: rows in an in-memory SQLite table with the hub store's usage_records layout.
import Database from 'better-sqlite3';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { coalesce } from '../dist/hub/billing/coalesce.js';
import { buildInvoices, invoiceCsv } from '../dist/hub/billing/invoice.js';
import { rate } from '../dist/hub/billing/rate.js';

const H100 = 'NVIDIA H100 80GB HBM3';
const L40 = 'NVIDIA L40S';
const MONTH = '2026-03';
const START = Date.parse('2026-03-01T00:00:00Z');
const END = Date.parse('2026-04-01T00:00:00Z');
const STEP = 10_000;
const HOUR = 3_600_000;

export const PRICES = [{
  apiVersion: 'foundry.cloud/v1', kind: 'PriceList', metadata: { name: 'default' },
  spec: { currency: 'EUR', increment: '1s', minimumCharge: '1m', periods: [
    { effectiveFrom: '2026-01-01T00:00:00Z', gpuHour: { [H100]: '2.49', [L40]: '0.89' } },
    { effectiveFrom: '2026-03-15T12:00:00Z', gpuHour: { [H100]: '2.29', [L40]: '0.89' } },
  ] },
}];

function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/** The GPU's month: sessions (a workspace of its tenant holding it) minus agent-offline windows, as intervals. */
export function gpuMonth(g) {
  const rand = rng(g + 1);
  const tenant = `t${String(g % 200).padStart(3, '0')}`;
  const node = `gpu-${String(Math.floor(g / 8)).padStart(3, '0')}`;
  const gpuUuid = `GPU-${String(g).padStart(8, '0')}-0000-0000-0000-000000000000`;
  const gpuModel = Math.floor(g / 8) % 4 === 3 ? L40 : H100;
  const offline = [];
  const offRand = rng(1000 + Math.floor(g / 8)); // a node's agent is offline for all its GPUs at once
  for (let i = 0; i < 2; i++) {
    const at = START + Math.floor(offRand() * 30 * 24) * HOUR;
    offline.push([at, at + (1 + Math.floor(offRand() * 6)) * HOUR]);
  }
  const out = [];
  let t = START + Math.floor(rand() * 12) * HOUR;
  while (t < END) {
    const len = Math.max(STEP, Math.floor(rand() * 72 * HOUR / STEP) * STEP);
    const workspace = `${tenant}-ws${Math.floor(rand() * 3)}`;
    let from = t;
    const to = Math.min(END, t + len);
    for (const [a, b] of offline) {
      if (a < to && b > from) {
        if (a > from) out.push({ workspace, tenant, node, gpuUuid, gpuModel, from, to: a });
        from = Math.max(from, b);
      }
    }
    if (from < to) out.push({ workspace, tenant, node, gpuUuid, gpuModel, from, to });
    t = to + Math.floor(rand() * 12) * HOUR;
  }
  return out;
}

/** The same month as the agent's 10 s records (each one slot), with measured utilization. */
function rawRecords(intervals) {
  const out = [];
  let u = 0;
  for (const iv of intervals) {
    for (let s = iv.from; s < iv.to; s += STEP) {
      out.push({ workspace: iv.workspace, tenant: iv.tenant, node: iv.node, gpuUuid: iv.gpuUuid, gpuModel: iv.gpuModel, from: s, to: s + STEP, utilization: (u++ * 37) % 101 });
    }
  }
  return out;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn) {
  const t0 = performance.now();
  const v = fn();
  return [performance.now() - t0, v];
}

/** Bytes a GPU-month of 10 s records takes as rows in the hub store's usage_records layout (in-memory SQLite). */
function storagePerRecord(records) {
  const db = new Database(':memory:');
  db.exec(`CREATE TABLE usage_records (id INTEGER PRIMARY KEY AUTOINCREMENT, node TEXT NOT NULL, seq INTEGER NOT NULL,
    payload TEXT NOT NULL, received_at TEXT NOT NULL, UNIQUE (node, seq))`);
  const pages = () => db.pragma('page_count', { simple: true }) * db.pragma('page_size', { simple: true });
  const before = pages();
  const ins = db.prepare('INSERT INTO usage_records (node, seq, payload, received_at) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    records.forEach((r, i) => {
      // the agent's wire record (agent/usage/usage-types.ts), stored verbatim as JSON
      const rec = { kind: 'gpu-allocation', version: 1, key: `${r.node}/${r.workspace}/${r.gpuUuid}/${r.from}`, node: r.node, workspace: r.workspace, tenant: r.tenant,
        gpuUuid: r.gpuUuid, gpuModel: r.gpuModel, from: r.from, to: r.to, fromIso: new Date(r.from).toISOString(), toIso: new Date(r.to).toISOString(),
        seconds: (r.to - r.from) / 1000, measuredAvgUtilizationPct: r.utilization ?? null, measuredSamples: 2 };
      ins.run(r.node, i + 1, JSON.stringify(rec), new Date(r.to + 500).toISOString());
    });
  })();
  const bytes = pages() - before;
  db.close();
  return bytes / records.length;
}

/** @param {{ quick?: boolean }} opts */
export async function run({ quick = false } = {}) {
  const gpus = 1000;
  const runs = quick ? 3 : 7;
  const sampleGpus = quick ? 2 : 8;
  const rows = [];

  const month = [];
  for (let g = 0; g < gpus; g++) month.push(...gpuMonth(g));
  const tenants = [...new Set(month.map((iv) => iv.tenant))].sort();

  // all invoices from the coalesced month
  const allTimes = [];
  let total = 0n;
  for (let r = 0; r < runs; r++) {
    const [ms, sum] = time(() => {
      const lines = rate(month, PRICES);
      let s = 0n;
      for (const inv of buildInvoices(MONTH, lines).values()) {
        invoiceCsv(inv);
        s += BigInt(inv.totals.amountMinor);
      }
      return s;
    });
    allTimes.push(ms);
    total = sum;
  }
  rows.push({ figure: `all ${tenants.length} invoices (JSON + CSV), ${gpus.toLocaleString('en-US')} GPU-months, ${month.length.toLocaleString('en-US')} coalesced intervals`, median: median(allTimes), unit: 'ms', runs, target: '< 2,000 ms', met: median(allTimes) < 2000 });

  // raw 10 s records for a sample of GPUs: coalesce cost and naive rating cost, scaled to 1,000 GPU-months
  const coalesceMs = [];
  const rawRateMs = [];
  let rawCount = 0;
  let sample = [];
  const warm = rawRecords(gpuMonth(gpus - 1)); // JIT warm-up on a GPU outside the sample
  rate(coalesce(warm), PRICES);
  rate(warm, PRICES);
  for (let g = 0; g < sampleGpus; g++) {
    const ivs = gpuMonth(g);
    const raw = rawRecords(ivs);
    rawCount += raw.length;
    if (g === 0) sample = raw;
    const [cms, merged] = time(() => coalesce(raw));
    coalesceMs.push(cms);
    const [rms, direct] = time(() => rate(raw, PRICES));
    rawRateMs.push(rms);
    // the check that coalescing is lossless for money, on every sampled GPU
    const amounts = (ls) => ls.map((l) => `${l.workspace}/${l.periodFrom}/${l.seconds}/${l.amount}`).join();
    if (amounts(rate(merged, PRICES)) !== amounts(direct)) throw new Error(`coalesce changed the amounts of gpu ${g}`);
  }
  const perGpuRecords = rawCount / sampleGpus;
  rows.push({ figure: `coalesce 10 s records, scaled to ${gpus.toLocaleString('en-US')} GPU-months (${Math.round(perGpuRecords).toLocaleString('en-US')} records/GPU-month, ${sampleGpus} sampled)`, median: (median(coalesceMs) * gpus) / 1000, unit: 's', runs: sampleGpus });
  rows.push({ figure: `rate() straight on 10 s records, scaled to ${gpus.toLocaleString('en-US')} GPU-months (${sampleGpus} sampled)`, median: (median(rawRateMs) * gpus) / 1000, unit: 's', runs: sampleGpus });

  // storage per GPU-month
  const rowsForStorage = quick ? sample.slice(0, 8640) : sample;
  const perRow = storagePerRecord(rowsForStorage);
  const fullMonthRecords = (END - START) / STEP;
  rows.push({ figure: `store: 10 s rows per fully used GPU-month (${fullMonthRecords.toLocaleString('en-US')} rows × ${Math.round(perRow)} B, usage_records layout)`, median: (perRow * fullMonthRecords) / 1e6, unit: 'MB', runs: 1 });
  const perGpuIntervals = month.length / gpus;
  rows.push({ figure: `store: coalesced intervals per GPU-month (${perGpuIntervals.toFixed(1)} rows × ${Math.round(perRow)} B)`, median: (perRow * perGpuIntervals) / 1e3, unit: 'kB', runs: 1 });

  return {
    title: 'billing',
    rows,
    notes: [
      `month ${MONTH}: sessions of 10 s to 72 h with gaps of 0 to 12 h, two agent-offline windows per node, a price change on the 15th at 12:00; invoices total ${(Number(total) / 100).toLocaleString('en-US')} EUR`,
      `scaled rows: time for ${sampleGpus} sampled GPU-months × ${gpus / sampleGpus}; 1,000 GPU-months of 10 s records (${Math.round(perGpuRecords * gpus / 1e6)} M here, up to ${Math.round(fullMonthRecords * gpus / 1e6)} M) do not fit in memory as objects, so the hub must coalesce on ingest or stream per GPU`,
      'storage: bytes of SQLite pages per row in an in-memory table shaped like hub/store usage_records (payload = the agent record as JSON, received_at text); indexes beyond UNIQUE(node, seq) would add more',
    ],
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { table } = await import('./run.mjs');
  const res = await run({ quick: process.argv.includes('--quick') });
  console.log(table([res]));
  for (const n of res.notes) console.log(`- ${n}`);
}

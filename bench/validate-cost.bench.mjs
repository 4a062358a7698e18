#!/usr/bin/env node
// Validation cost against hostile input (issue 17): one file with N keys in one mapping (a Node's labels),
// parsed, checked and validated as `foundry validate` does (parseRepoFile), for N = 1k, 10k, 40k
// (quick: 1k, 10k). The cost per 1,000 keys must stay flat (linear). Peer in the same run: the yaml
// library's own duplicate-key check (uniqueKeys: true, what the loader used before), quadratic.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { median } from './stats.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(root, 'dist', p));

function timeSync(fn, runs) {
  fn();
  const xs = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    fn();
    xs.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(xs);
}

/** A valid Node document with `n` labels in one mapping (14 bytes a key: 70k keys fill 1 MiB). */
export function manyKeys(n) {
  const keys = Array.from({ length: n }, (_, i) => `    k${String(i).padStart(5, '0')}: v\n`).join('');
  return `apiVersion: foundry.cloud/v1\nkind: Node\nmetadata:\n  name: n1\nspec:\n  profile: gpu-node\n  labels:\n${keys}`;
}

/** The benchmark: returns rows for bench/run.mjs. */
export async function run({ quick = false } = {}) {
  const { parseRepoFile } = await dist('common/infra/parse-docs.js');
  const { parseAllDocuments, LineCounter } = await import('yaml');
  const sizes = quick ? [1000, 10_000] : [1000, 10_000, 40_000];
  const rows = [];
  let first;
  for (const n of sizes) {
    const text = manyKeys(n);
    const runs = n >= 40_000 ? 3 : 5;
    const ours = timeSync(() => {
      const issues = [];
      parseRepoFile({ file: 'nodes/n1.yaml', text }, issues, new Set());
      if (issues.length > 0) throw new Error(`unexpected issues: ${JSON.stringify(issues[0])}`);
    }, runs);
    // The quadratic peer costs over a minute at 70k keys; 40k keys take about 20 s, so it runs once there.
    const peer = timeSync(() => parseAllDocuments(text, { lineCounter: new LineCounter(), uniqueKeys: true }), n >= 40_000 ? 1 : runs);
    const perK = ours / (n / 1000);
    first ??= perK;
    rows.push({
      figure: `validate one mapping of ${n.toLocaleString('en')} keys (${Math.round(text.length / 1024)} KiB); per 1k keys ${perK.toFixed(1)} ms`,
      median: ours,
      unit: 'ms',
      runs,
      target: 'per-1k cost within 3x of the 1k row (linear)',
      met: perK <= first * 3,
      peer: 'yaml uniqueKeys parse alone',
      peerMedian: peer,
      ratio: `${(peer / ours).toFixed(1)}x`,
    });
  }
  return {
    title: 'validation cost vs keys in one mapping (hostile input)',
    rows,
    notes: ['ours: parse with positions, linear duplicate-key/NUL/range pass, schema validation; peer: only the yaml library parse with its own duplicate-key check (quadratic), same input, same run'],
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { table, machineLabel } = await import('./run.mjs');
  const res = await run({ quick: process.argv.includes('--quick') });
  console.log(`Absolute figures from ${machineLabel()}.\n\n${table([res])}`);
}

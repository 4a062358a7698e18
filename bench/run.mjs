#!/usr/bin/env node
// Runs every bench/*.bench.mjs (see bench/README.md), prints one table and writes bench/results.md.
// `--quick` runs each benchmark's quick mode (CI); `--only NAME` runs the matching files only. Only a full
// run (neither flag) rewrites results.md: a partial one would drop every other benchmark's rows.
import { readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, hostname } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const onlyIdx = process.argv.indexOf('--only');
const only = onlyIdx > 0 ? process.argv[onlyIdx + 1] : undefined;

/** One line naming the machine the absolute figures come from. */
export function machineLabel() {
  const cpu = cpus()[0]?.model?.trim() ?? 'unknown cpu';
  return `${hostname()}: ${cpus().length} cores (${cpu}), ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
}

/** Formats a number for a table: 3 significant digits, thousands kept whole. */
export function fmt(n) {
  if (n === undefined || n === null || Number.isNaN(n)) return '';
  if (typeof n !== 'number') return String(n);
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return Number(n.toPrecision(3)).toString();
}

/** A markdown table of benchmark results. */
export function table(results) {
  const head = '| benchmark | figure | median | runs | target | met | peer (same run) | ratio |\n|---|---|---|---|---|---|---|---|';
  const lines = results.flatMap(({ title, rows, error }) =>
    error !== undefined
      ? [`| ${title} | **failed** | ${error.replaceAll('|', '/').slice(0, 160)} | | | no | | |`]
      : rows.map((r) => `| ${title} | ${r.figure} | ${fmt(r.median)} ${r.unit ?? ''} | ${r.runs ?? ''} | ${r.target ?? ''} | ${r.met === undefined ? '' : r.met ? 'yes' : '**no**'} | ${r.peer ?? ''}${r.peerMedian !== undefined ? `: ${fmt(r.peerMedian)} ${r.unit ?? ''}` : ''} | ${r.ratio ?? ''} |`),
  );
  return [head, ...lines].join('\n');
}

async function main() {
  const files = readdirSync(here).filter((f) => f.endsWith('.bench.mjs') && (only === undefined || f.includes(only))).sort();
  const results = [];
  for (const file of files) {
    const started = Date.now();
    process.stderr.write(`bench: ${file}${quick ? ' (quick)' : ''}...\n`);
    try {
      const mod = await import(pathToFileURL(join(here, file)).href);
      const fn = mod.run ?? mod.default;
      if (typeof fn !== 'function') throw new Error('exports no run({ quick }) function');
      const res = await fn({ quick });
      results.push({ title: res.title ?? file, rows: res.rows ?? [], notes: res.notes ?? [] });
    } catch (err) {
      results.push({ title: file, rows: [], error: err instanceof Error ? err.message : String(err) });
    }
    process.stderr.write(`bench: ${file} done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
  const notes = results.flatMap((r) => (r.notes ?? []).map((n) => `- ${r.title}: ${n}`));
  const md = [
    `# Benchmark results${quick ? ' (quick mode: fewer runs, smaller inputs; not for comparison)' : ''}`,
    '',
    `Absolute figures from ${machineLabel()}. Ratios compare figures measured in the same run.`,
    '',
    table(results),
    '',
    ...(notes.length > 0 ? ['Notes:', '', ...notes, ''] : []),
  ].join('\n');
  console.log(md);
  if (!quick && only === undefined) writeFileSync(join(here, 'results.md'), md);
  if (results.some((r) => r.error !== undefined)) process.exitCode = 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();

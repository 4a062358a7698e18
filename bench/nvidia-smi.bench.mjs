// Parse cost per telemetry poll: the CSV path (--query-gpu + --query-compute-apps) versus the `-q -x` XML
// path, on the real captures; and the agent's CPU per poll with the stand-in nvidia-smi, projected to a
// 5 s telemetry interval (issue 6: under 1 % of one core). `node bench/nvidia-smi.bench.mjs [--quick]`.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds } from './proc.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = join(root, 'fixtures', 'nvidia-smi');
const fake = join(root, 'scripts', 'fake-nvidia-smi');

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// Median µs per call of fn over `runs` batches of `batch` calls.
function time(fn, runs, batch) {
  const per = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) fn();
    per.push(Number(process.hrtime.bigint() - t0) / 1000 / batch);
  }
  return median(per);
}

// What the agent's poll actually reads: the stand-in projects the captures to the agent's own queries.
function fakeOutput(args, scenario) {
  const r = spawnSync(process.execPath, [fake, ...args], { encoding: 'utf8', env: { ...process.env, FAKE_NVIDIA_SMI_SCENARIO: scenario } });
  if (r.status !== 0) throw new Error(`fake-nvidia-smi ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Runs the benchmark; `quick` for CI. */
export async function run({ quick = false } = {}) {
  const { parseStatsCsv, parseStatsOutput, queryGpuArgs, STATS_FIELDS, SAMPLE_FIELDS } = await import('../dist/agent/gpu/query-gpu.js');
  const { parseComputeAppsCsv, computeAppsArgs } = await import('../dist/agent/gpu/query-compute-apps.js');
  const { parseSmiXml } = await import('../dist/agent/gpu/smi-xml.js');
  const { NvidiaGpuPlugin } = await import('../dist/agent/gpu/nvidia-plugin.js');
  const runs = quick ? 5 : 31;
  const batch = quick ? 20 : 200;
  const gpuCsv = fakeOutput(queryGpuArgs(STATS_FIELDS), 'h100-load');
  const appsCsv = fakeOutput(computeAppsArgs(), 'h100-load');
  const csvUs = time(() => { parseStatsCsv(gpuCsv); parseComputeAppsCsv(appsCsv); }, runs, batch);
  // the same poll without the GPU health fields (what the query was before docs/gpu-health.md), side by side
  const bareFields = [...SAMPLE_FIELDS, 'name'];
  const bareCsv = fakeOutput(queryGpuArgs(bareFields), 'h100-load');
  const bareUs = time(() => { parseStatsOutput(bareCsv, bareFields); parseComputeAppsCsv(appsCsv); }, runs, batch);
  const rows = [
    { figure: 'parse per poll, CSV path without health fields (H100, 3 processes)', median: bareUs, unit: 'µs', runs },
    { figure: 'parse per poll, CSV path with health fields and classification (H100, 3 processes)', median: csvUs, unit: 'µs', runs, peer: 'without health fields', peerMedian: bareUs, ratio: `${(csvUs / bareUs).toFixed(1)}x` },
  ];
  for (const [label, file] of [['T4, 2 processes', 'tesla-t4_2-processes_driver-515.105.01_q-x.xml'], ['A100 MIG', 'a100-sxm4-80gb-x4_mig-enabled_driver-535.54.03_q-x.xml'], ['RTX 4090', 'rtx-4090_driver-535.86.05_q-x.xml']]) {
    const xml = readFileSync(join(fixtures, file), 'utf8');
    const xmlUs = time(() => parseSmiXml(xml), runs, Math.max(2, batch / 10));
    rows.push({ figure: `parse per poll, -q -x path (${label}, ${(xml.length / 1024).toFixed(0)} KiB)`, median: xmlUs, unit: 'µs', runs, peer: 'CSV path', peerMedian: csvUs, ratio: `${(xmlUs / csvUs).toFixed(1)}x slower` });
  }
  // Agent-side CPU of whole polls (spawn, wait, parse) against the stand-in; the child's own CPU is not
  // the agent's and is excluded. Projected to one poll every 5 s.
  const env = { ...process.env, FAKE_NVIDIA_SMI_SCENARIO: 'h100-load' };
  const { SmiRunner } = await import('../dist/agent/gpu/smi-runner.js');
  const plugin = new NvidiaGpuPlugin({ exec: new SmiRunner({ command: fake, env }).run });
  const polls = quick ? 3 : 20;
  const cpuPerPoll = [];
  for (let i = 0; i < polls; i++) {
    const c0 = process.cpuUsage();
    await plugin.stats();
    const c = process.cpuUsage(c0);
    cpuPerPoll.push((c.user + c.system) / 1000);
  }
  const ms = median(cpuPerPoll);
  const share = (ms / 5000) * 100;
  rows.push({ figure: 'agent CPU per poll (spawn + parse, 2 nvidia-smi calls)', median: ms, unit: 'ms', runs: polls });
  rows.push({ figure: 'agent CPU share at a 5 s interval (projected from the above)', median: share, unit: '% of a core', runs: polls, target: '< 1 %', met: share < 1 });
  // Measured, not projected: the whole telemetry path in a process of its own at a 5 s interval for
  // 10 minutes (quick: 20 s), CPU from /proc/<pid>/stat after the first tick.
  const seconds = quick ? 20 : Number(process.env.TELEMETRY_BENCH_S ?? 600);
  const measured = await telemetryProcessCpu(seconds);
  rows.push({ figure: `agent CPU share at a 5 s interval, measured over ${seconds >= 60 ? `${seconds / 60} min` : `${seconds} s`} (GPU poll, host metrics, usage into the outbox, encoding)`, median: measured.pct, unit: '% of a core', runs: measured.ticks, target: '< 1 %', met: measured.pct < 1 });
  return {
    title: 'nvidia-smi telemetry',
    rows,
    notes: [
      'CSV input is what the agent queries (noheader,nounits), projected from the H100 load capture by scripts/fake-nvidia-smi; XML inputs are the real -q -x captures.',
      'per-poll CPU is measured with the stand-in (a node script), so spawn cost is representative but nvidia-smi\'s own CPU (in the driver) is not included.',
    ],
  };
}

/** Runs bench/telemetry-agent.mjs for `seconds` and returns its CPU share of one core and the ticks it made. */
async function telemetryProcessCpu(seconds) {
  const stateDir = mkdtempSync(join(tmpdir(), 'foundry-telemetry-bench-'));
  const child = spawn(process.execPath, [join(here, 'telemetry-agent.mjs')], { env: { ...process.env, STATE_DIR: stateDir, FAKE_SMI: fake, INTERVAL_MS: '5000' }, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise((resolve, reject) => {
      child.stdout.on('data', (d) => d.toString().includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`telemetry-agent exited ${code}`)));
    });
    const cpu0 = cpuSeconds(child.pid);
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const pct = (100 * (cpuSeconds(child.pid) - cpu0)) / ((Date.now() - t0) / 1000);
    return { pct, ticks: Math.floor(seconds / 5) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(stateDir, { recursive: true, force: true });
  }
}


if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { table } = await import('./run.mjs');
  const res = await run({ quick: process.argv.includes('--quick') });
  console.log(table([res]));
  for (const n of res.notes) console.log(`- ${n}`);
}

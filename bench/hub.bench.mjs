#!/usr/bin/env node
// How many agents does one hub hold on this machine? Steps up the number of simulated agents (a separate
// process, bench/sim-agents.mjs), each sending telemetry every 5 s and a usage record every 10 s, and
// stops at the first step where p99 ack latency reaches 100 ms or a usage record is lost.
// Quick mode (CI): 20 agents, 1 s / 2 s intervals, 6 s.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HubStore } from '../dist/hub/store/hub-store.js';
import { ensureHostedRepo, seedHostedRepo } from '../dist/hub/git/hosted-repo.js';
import { newSecret, hashSecret, NODE_CREDENTIAL_PREFIX } from '../dist/hub/auth/secrets.js';
import { cpuSeconds } from './proc.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

/**
 * The hosted infra repo of the bench fleet: workspace w-<node> of tenant bench placed on each node with
 * GPU GPU-<node>, so the simulated agents' usage passes the hub's admission (docs/billing.md).
 */
async function seedRepo(dataDir, creds) {
  const src = mkdtempSync(join(tmpdir(), 'foundry-hub-bench-repo-'));
  try {
    mkdirSync(join(src, 'workspaces'));
    writeFileSync(join(src, 'template.yaml'), 'apiVersion: foundry.cloud/v1\nkind: WorkspaceTemplate\nmetadata:\n  name: bench\nspec:\n  containers:\n    - name: main\n      image: localhost/foundry-test:1\n');
    for (const { node } of creds) {
      writeFileSync(join(src, 'workspaces', `${node}.yaml`), `apiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: w-${node}\nspec:\n  tenant: bench\n  template: bench\n  node: ${node}\n  gpus:\n    count: 1\n    uuids: [GPU-${node}]\n`);
    }
    const repo = join(dataDir, 'infra.git');
    await ensureHostedRepo(repo);
    await seedHostedRepo(repo, src, 'bench fleet');
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
}

/** Creates `n` nodes in one transaction (the CLI path commits one by one) and returns their credentials. */
async function createNodes(dataDir, n) {
  const store = new HubStore(join(dataDir, 'hub.db'));
  const insert = store.db.prepare('INSERT INTO nodes (name, credential_hash, created_at) VALUES (?, ?, ?)');
  const creds = [];
  store.db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const node = `sim-${String(i).padStart(5, '0')}`;
      const credential = newSecret(NODE_CREDENTIAL_PREFIX);
      insert.run(node, hashSecret(credential), new Date().toISOString());
      creds.push({ node, credential });
    }
  })();
  const adminToken = (await store.createAdminToken('bench'));
  await store.close();
  return { creds, adminToken };
}

function startHub(dataDir) {
  const child = spawn(process.execPath, [join(root, 'bin', 'foundry.js'), 'hub', 'start', '--data-dir', dataDir, '--port', '0', '--log-level', 'error'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', () => reject(new Error(`hub exited: ${out}`)));
  });
}

function simulate(env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--max-old-space-size=4096', join(here, 'sim-agents.mjs')], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1))) : reject(new Error(`sim-agents exited ${code}`))));
  });
}


/** Cumulative buckets of the hub's ingest histogram (receipt of a usage/status frame to its ack), from /metrics. */
async function ingestBuckets(url, token) {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  const buckets = new Map();
  for (const m of text.matchAll(/^foundry_hub_ingest_seconds_bucket\{le="([^"]+)"\} (\d+)/gm)) buckets.set(m[1], Number(m[2]));
  return buckets;
}

/** The bucket bound (ms) under which `q` of the observations between two scrapes fall. */
function quantileBound(before, after, q) {
  const les = [...after.keys()];
  const total = after.get('+Inf') - (before.get('+Inf') ?? 0);
  for (const le of les) {
    if (after.get(le) - (before.get(le) ?? 0) >= q * total) return le === '+Inf' ? Infinity : Number(le) * 1000;
  }
  return Infinity;
}

async function stored(dataDir) {
  const store = new HubStore(join(dataDir, 'hub.db'));
  const n = store.db.prepare('SELECT COUNT(*) FROM usage_records').pluck().get();
  store.db.prepare('DELETE FROM usage_records').run();
  await store.close();
  return n;
}

/** Runs the step-up; returns the bench table rows. */
export async function run({ quick = false } = {}) {
  const steps = quick ? [20] : (process.env.HUB_BENCH_STEPS ?? '1000,2500,5000,7500,10000').split(',').map(Number);
  const sim = quick ? { DURATION_MS: '6000', TELEMETRY_MS: '1000', USAGE_MS: '2000' } : { DURATION_MS: process.env.HUB_BENCH_MS ?? '40000', TELEMETRY_MS: '5000', USAGE_MS: '10000' };
  const dir = mkdtempSync(join(tmpdir(), 'foundry-hub-bench-'));
  const rows = [];
  const notes = [];
  let held = 0;
  let failed = false;
  try {
    const { creds, adminToken } = await createNodes(join(dir, 'hub'), Math.max(...steps));
    await seedRepo(join(dir, 'hub'), creds);
    const hub = await startHub(join(dir, 'hub'));
    try {
      for (const n of steps) {
        const credsFile = join(dir, `creds-${n}.json`);
        writeFileSync(credsFile, JSON.stringify(creds.slice(0, n)));
        const cpu0 = cpuSeconds(hub.child.pid);
        const ingest0 = await ingestBuckets(hub.url, adminToken);
        const t0 = Date.now();
        const r = await simulate({ ...sim, HUB_URL: hub.url, CREDS: credsFile });
        // Hub CPU as a share of one core over the step: a figure that holds even when other work shares the machine.
        const hubCpuPct = (100 * (cpuSeconds(hub.child.pid) - cpu0)) / ((Date.now() - t0) / 1000);
        const ingest1 = await ingestBuckets(hub.url, adminToken);
        const hubP99 = quantileBound(ingest0, ingest1, 0.99);
        // Stored rows are checked against acks: an ack without a row (or a row never acked) is a loss.
        const rows_ = await stored(join(dir, 'hub'));
        const lost = r.usageSent - r.usageAcked + Math.abs(rows_ - r.usageAcked);
        const ok = r.connected === n && lost === 0 && r.p99 !== null && r.p99 < 100;
        process.stderr.write(`hub bench: ${n} agents: ${JSON.stringify({ ...r, stored: rows_, hubCpuPct, hubP99 })}\n`);
        rows.push({ figure: `${n} agents: p99 usage ack latency`, median: r.p99 ?? NaN, unit: 'ms', runs: r.usageAcked, target: '< 100 ms', met: ok });
        rows.push({ figure: `${n} agents: hub-side p99 receipt→ack (histogram bucket bound)`, median: hubP99, unit: 'ms ≤', runs: 1 });
        rows.push({ figure: `${n} agents: p50 usage ack latency`, median: r.p50 ?? NaN, unit: 'ms', runs: r.usageAcked });
        rows.push({ figure: `${n} agents: connected / usage lost`, median: r.connected, unit: `connected, ${lost} lost`, runs: 1 });
        rows.push({ figure: `${n} agents: hub CPU (ramp, run and drain)`, median: hubCpuPct, unit: '% of one core', runs: 1 });
        rows.push({ figure: `${n} agents: simulator CPU (same span)`, median: r.simCpuPct, unit: '% of one core', runs: 1 });
        rows.push({ figure: `${n} agents: time to connect all`, median: r.rampMs / 1000, unit: 's', runs: 1 });
        // HUB_BENCH_ALL_STEPS=1 runs every step (for the table) but `held` stays the last step before a failure.
        if (!ok) failed = true;
        else if (!failed) held = n;
        if (failed && !process.env.HUB_BENCH_ALL_STEPS) break;
      }
    } finally {
      hub.child.kill('SIGTERM');
      await new Promise((r) => hub.child.on('exit', r));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  rows.push({ figure: 'largest agent count held (p99 < 100 ms, nothing lost)', median: held, unit: 'agents', runs: 1, target: quick ? 'quick mode' : '10,000', met: quick ? undefined : held >= 10_000 });
  notes.push(quick ? 'quick mode: 20 agents, telemetry every 1 s, usage every 2 s, 6 s' : `telemetry every 5 s, usage every 10 s per agent, ${Number(sim.DURATION_MS) / 1000} s per step; hub and simulator share the machine's cores`);
  return { title: 'hub: simulated agents', rows, notes };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { table } = await import('./run.mjs');
  const res = await run({ quick: process.argv.includes('--quick') });
  console.log(table([res]));
  for (const n of res.notes) console.log(`- ${n}`);
}

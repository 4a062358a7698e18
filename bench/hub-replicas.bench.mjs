#!/usr/bin/env node
// The SQLite hub against 2 hub replicas on PostgreSQL behind HAProxy, in one run with the same simulated
// agents (bench/replica-agents.mjs, a process of their own): at each step of the agent count, p99 usage
// ack latency and whether every record sent is stored once; the largest count held (p99 < 100 ms, nothing
// lost) per setup; then, on the replicas, one replica SIGKILLed mid-run: how long its agents take to be
// connected again through HAProxy (p99, target < 10 s) and whether anything was lost.
// Full mode: HUB_REPLICAS_STEPS (default 500,1000,2000,5000), HUB_REPLICAS_MS per step (default 30000),
// usage every 10 s per agent, HUB_REPLICAS_ALL_STEPS=1 to run the steps after a failure too, HUB_REPLICAS_KILL_AGENTS for the kill run's count (default: the largest held, at least the first step). Quick mode (CI, < 1 min): 50 agents, usage every 1 s, 5 s per step.
// Needs dist/ (npm run build), PostgreSQL (test/support/postgres.ts's server) and haproxy.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createServer } from 'node:net';
import { HubStore } from '../dist/hub/store/hub-store.js';
import { ensureHostedRepo, seedHostedRepo } from '../dist/hub/git/hosted-repo.js';
import { newSecret, hashSecret, NODE_CREDENTIAL_PREFIX } from '../dist/hub/auth/secrets.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

/**
 * A PostgreSQL database for the replicas: a fresh one on FOUNDRY_BENCH_PG_URL's server (a superuser URL),
 * or on the test suites' private server (test/support/postgres.ts, started when needed: that module is
 * TypeScript, so it is transpiled into dist/ first, where its `pg` import resolves).
 */
async function database() {
  const given = process.env.FOUNDRY_BENCH_PG_URL;
  if (given !== undefined) process.env.FOUNDRY_TEST_PG_URL = given;
  const ts = (await import('typescript')).default;
  const source = readFileSync(join(root, 'test', 'support', 'postgres.ts'), 'utf8');
  const out = join(root, 'dist', 'bench-postgres-support.mjs');
  writeFileSync(out, ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText);
  const { createTestDatabase } = await import(pathToFileURL(out).href);
  return createTestDatabase();
}

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** Workspace w-<node> of tenant bench placed on each node with GPU-<node> (as bench/hub.bench.mjs). */
async function seedRepo(repo, creds) {
  const src = mkdtempSync(join(tmpdir(), 'foundry-replicas-bench-repo-'));
  try {
    mkdirSync(join(src, 'workspaces'));
    writeFileSync(join(src, 'template.yaml'), 'apiVersion: foundry.cloud/v1\nkind: WorkspaceTemplate\nmetadata:\n  name: bench\nspec:\n  containers:\n    - name: main\n      image: localhost/foundry-test:1\n');
    for (const { node } of creds) {
      writeFileSync(join(src, 'workspaces', `${node}.yaml`), `apiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: w-${node}\nspec:\n  tenant: bench\n  template: bench\n  node: ${node}\n  gpus:\n    count: 1\n    uuids: [GPU-${node}]\n`);
    }
    await ensureHostedRepo(repo);
    await seedHostedRepo(repo, src, 'bench fleet');
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
}

/** The same nodes (and credentials) in a store, in one transaction. */
async function addNodes(store, creds) {
  const at = new Date().toISOString();
  await store.sql.tx(async (tx) => {
    for (const { node, credential } of creds) await tx.run('INSERT INTO nodes (name, credential_hash, created_at) VALUES (?, ?, ?)', [node, hashSecret(credential), at]);
  });
}

function startHub(dataDir, extra = []) {
  const child = spawn(process.execPath, [join(root, 'bin', 'foundry.js'), 'hub', 'start', '--data-dir', dataDir, '--port', '0', '--log-level', 'error', ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((r) => child.on('exit', r));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve({ child, url: m[1], exited });
    });
    exited.then(() => reject(new Error(`hub exited: ${out}`)));
  });
}

/** HAProxy: round-robin, WebSocket tunnels kept for an hour, /healthz checked every 500 ms (the config docs/hub-postgres.md shows). */
function haproxyConfig(port, servers, maxconn) {
  return [
    'global', `  maxconn ${maxconn}`,
    'defaults', '  mode http', '  timeout connect 2s', '  timeout client 60s', '  timeout server 60s', '  timeout tunnel 1h', '  option redispatch', '  retries 3',
    'frontend hub', `  bind 127.0.0.1:${port}`, '  default_backend replicas',
    'backend replicas', '  balance roundrobin', '  option httpchk GET /healthz', '  http-check expect status 200', '  default-server inter 500ms fall 2 rise 2',
    ...servers.map((url, i) => `  server r${i + 1} ${new URL(url).host} check`),
    '',
  ].join('\n');
}

/** Runs the simulated agents for `ms`, optionally doing `during()` halfway; returns their results. */
async function simulate({ url, credsFile, usageMs, ms, during }) {
  const t0 = Math.ceil(Date.now() / 1000) * 1000 - 2000;
  const child = spawn(process.execPath, ['--max-old-space-size=4096', join(here, 'replica-agents.mjs')], {
    env: { ...process.env, HUB_URL: url, CREDS: credsFile, USAGE_MS: String(usageMs), T0: String(t0), ACK_WAIT_MS: '30000' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  let connected;
  const connectedP = new Promise((r) => (connected = r));
  const done = new Promise((resolve, reject) => {
    lines.on('line', (l) => {
      const e = JSON.parse(l);
      if (e.event === 'connected') connected(e);
      if (e.event === 'done') resolve(e);
    });
    child.on('exit', (code) => reject(new Error(`replica-agents exited ${code}`)));
  });
  done.catch(() => undefined);
  await Promise.race([connectedP, done]);
  await new Promise((r) => setTimeout(r, ms / 2));
  if (during !== undefined) await during();
  await new Promise((r) => setTimeout(r, ms / 2));
  child.stdin.write('stop\n');
  return done;
}

/** Rows stored, and then deleted for the next step. */
async function storedAndClear(store) {
  const n = (await store.sql.get('SELECT COUNT(*) AS n FROM usage_records'))?.n ?? 0;
  await store.sql.run('DELETE FROM usage_records');
  return n;
}

/** Runs the comparison; returns the bench table rows. */
export async function run({ quick = false } = {}) {
  const steps = quick ? [50] : (process.env.HUB_REPLICAS_STEPS ?? '500,1000,2000,5000').split(',').map(Number);
  const ms = quick ? 5000 : Number(process.env.HUB_REPLICAS_MS ?? 30_000);
  const usageMs = quick ? 1000 : 10_000;
  const max = Math.max(...steps);
  const dir = mkdtempSync(join(tmpdir(), 'foundry-replicas-bench-'));
  const rows = [];
  const notes = [];
  const procs = [];
  const db = await database();
  try {
    const creds = Array.from({ length: max }, (_, i) => ({ node: `sim-${String(i).padStart(5, '0')}`, credential: newSecret(NODE_CREDENTIAL_PREFIX) }));
    // SQLite hub
    const sqliteStore = new HubStore(join(dir, 'sqlite', 'hub.db'));
    await addNodes(sqliteStore, creds);
    await seedRepo(join(dir, 'sqlite', 'infra.git'), creds);
    // replicas: a's data dir holds the repo; b links it and copies a's keys once a created them
    const pgStore = await HubStore.open(db.url, { poolSize: 2 });
    await addNodes(pgStore, creds);
    await seedRepo(join(dir, 'a', 'infra.git'), creds);
    const urlFile = join(dir, 'database-url');
    writeFileSync(urlFile, `${db.url}\n`, { mode: 0o600 });
    const sqliteHub = await startHub(join(dir, 'sqlite'));
    procs.push(sqliteHub);
    const a = await startHub(join(dir, 'a'), ['--database-url-file', urlFile]);
    procs.push(a);
    mkdirSync(join(dir, 'b'));
    symlinkSync(join(dir, 'a', 'infra.git'), join(dir, 'b', 'infra.git'));
    for (const d of ['signing', 'secrets']) cpSync(join(dir, 'a', d), join(dir, 'b', d), { recursive: true });
    const b = await startHub(join(dir, 'b'), ['--database-url-file', urlFile]);
    procs.push(b);
    const port = await freePort();
    writeFileSync(join(dir, 'haproxy.cfg'), haproxyConfig(port, [a.url, b.url], Math.min(2 * max + 100, 9000)));
    const lb = spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'ignore', 'inherit'] });
    procs.push({ child: lb, exited: new Promise((r) => lb.on('exit', r)) });
    const lbUrl = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100 && !(await fetch(`${lbUrl}/healthz`).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 100));

    const setups = [
      { name: 'SQLite hub', url: sqliteHub.url, store: sqliteStore },
      { name: '2 replicas on PostgreSQL + HAProxy', url: lbUrl, store: pgStore },
    ];
    for (const s of setups) {
      s.held = 0;
      let failed = false;
      // warm-up, not measured: the first records make a hub read the placement history of the whole fleet
      writeFileSync(join(dir, 'creds-warmup.json'), JSON.stringify(creds.slice(0, steps[0])));
      await simulate({ url: s.url, credsFile: join(dir, 'creds-warmup.json'), usageMs: 1000, ms: quick ? 2000 : 4000 });
      await storedAndClear(s.store);
      for (const n of steps) {
        const credsFile = join(dir, `creds-${n}.json`);
        writeFileSync(credsFile, JSON.stringify(creds.slice(0, n)));
        const r = await simulate({ url: s.url, credsFile, usageMs, ms });
        const stored = await storedAndClear(s.store);
        const lost = r.usageSent - stored + r.unacked;
        const ok = r.connected === n && lost === 0 && r.p99 !== null && r.p99 < 100;
        process.stderr.write(`replicas bench: ${s.name}, ${n} agents: ${JSON.stringify({ ...r, sent: undefined, stored })}\n`);
        rows.push({ figure: `${s.name}, ${n} agents: p99 usage ack`, median: r.p99 ?? NaN, unit: 'ms', runs: r.usageAcked, target: '< 100 ms, nothing lost', met: ok });
        rows.push({ figure: `${s.name}, ${n} agents: connected / lost`, median: r.connected, unit: `connected, ${lost} lost`, runs: 1 });
        // HUB_REPLICAS_ALL_STEPS=1 runs every step (for the table); held stays the last step before a failure
        if (!ok) failed = true;
        else if (!failed) s.held = n;
        if (failed && !process.env.HUB_REPLICAS_ALL_STEPS) break;
      }
      rows.push({ figure: `${s.name}: largest agent count held`, median: s.held, unit: 'agents', runs: 1, target: quick ? 'quick mode' : '10,000' });
    }

    // a replica killed mid-run, at the largest count the replicas held (at least the first step)
    const n = Number(process.env.HUB_REPLICAS_KILL_AGENTS ?? Math.max(setups[1].held, steps[0]));
    const credsFile = join(dir, `creds-${n}.json`);
    writeFileSync(credsFile, JSON.stringify(creds.slice(0, n)));
    const r = await simulate({ url: lbUrl, credsFile, usageMs, ms: quick ? 6000 : Math.max(ms, 10_000), during: async () => { b.child.kill('SIGKILL'); await b.exited; } });
    const stored = await storedAndClear(pgStore);
    const lost = r.usageSent - stored + r.unacked;
    process.stderr.write(`replicas bench: kill, ${n} agents: ${JSON.stringify({ ...r, sent: undefined, stored })}\n`);
    rows.push({ figure: `replica SIGKILLed, ${n} agents: p99 time to reconnect`, median: (r.reconnectP99 ?? NaN) / 1000, unit: 's', runs: r.reconnects, target: '< 10 s', met: r.reconnectP99 !== null && r.reconnectP99 < 10_000 && lost === 0 && r.connected === n });
    rows.push({ figure: `replica SIGKILLed, ${n} agents: connected after / lost`, median: r.connected, unit: `connected, ${lost} lost`, runs: 1 });
    await sqliteStore.close();
    await pgStore.close();
  } finally {
    for (const p of procs.reverse()) {
      p.child.kill('SIGTERM');
      await p.exited;
    }
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
  notes.push(quick ? 'quick mode: 50 agents, usage every 1 s, 5 s per step' : `usage every ${usageMs / 1000} s per agent, ${ms / 1000} s per step; hubs, PostgreSQL, HAProxy and the simulator share the machine's cores`);
  return { title: 'hub: SQLite vs 2 PostgreSQL replicas', rows, notes };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { table } = await import('./run.mjs');
  const res = await run({ quick: process.argv.includes('--quick') });
  console.log(table([res]));
  for (const n of res.notes) console.log(`- ${n}`);
}

/**
 * Two hub replicas as real processes (`foundry hub start --database-url-file`) on one PostgreSQL, HAProxy
 * in front (round-robin, health check on /healthz), 50 simulated agents in a process of their own
 * (bench/replica-agents.mjs) sending usage records with (node, seq) through HAProxy. One replica is
 * SIGKILLed mid-run: every agent reconnects through HAProxy to the other and resends what was not acked;
 * at the end every (node, seq) sent is stored exactly once, nothing is left unacked, every agent is
 * connected. Before that, a push to replica A reaches every agent, those on replica B through the bus.
 *
 * Storage: each replica has its own data dir (its writer's clone and caches are private); infra.git is
 * one directory (a symlink here, a shared mount in production), and the signing key and age identity
 * replica A created at its first start are copied to B before B starts (docs/hub-postgres.md).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { HubStore } from '../../hub/store/hub-store.js';
import { ensureHostedRepo, seedHostedRepo } from '../../hub/git/hosted-repo.js';
import { createTestDatabase, postgresAvailable } from '../support/postgres.js';
import { describeIf, describeIfBuilt, onPath } from '../support/requires.js';
import { freePort } from '../support/free-port.js';
import { fleetFiles, gitSync, gpuNode, gpuUuid, writeFiles } from '../workspaces/git-fixture.js';
import { waitFor } from './support.js';

const AGENTS = 50;
const ROOT = join(import.meta.dirname, '..', '..');
const ready = postgresAvailable() && onPath('haproxy');
const describeReplicas = ready ? describeIfBuilt('dist/cli/foundry.js', 'dist/hub/git/pre-receive-hook.js') : describeIf(false, 'PostgreSQL and HAProxy', 'apt-get install postgresql haproxy');

interface Proc {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

/** Starts `foundry hub start` and resolves once it prints its URL. */
function startReplica(dataDir: string, urlFile: string): Promise<Proc> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'foundry.js'), 'hub', 'start', '--data-dir', dataDir, '--database-url-file', urlFile, '--port', '0', '--log-level', 'error', '--repo-poll', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let text = '';
  return new Promise((resolve, reject) => {
    const seen = (d: Buffer): void => {
      text += d.toString();
      const m = /listening on (\S+)/.exec(text);
      if (m !== null) resolve({ child, url: m[1]!, exited });
    };
    child.stdout!.on('data', seen);
    child.stderr!.on('data', seen);
    void exited.then((code) => reject(new Error(`hub exited ${code}: ${text}`)));
  });
}

/** HAProxy in front of the replicas: round-robin, WebSocket-friendly timeouts, /healthz checks. */
function haproxyConfig(port: number, servers: ReadonlyArray<{ name: string; url: string }>): string {
  return [
    'global',
    '  maxconn 4000',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    // an agent's WebSocket is a long tunnel once upgraded
    '  timeout tunnel 1h',
    '  option redispatch',
    '  retries 3',
    'frontend hub',
    `  bind 127.0.0.1:${port}`,
    '  default_backend replicas',
    'backend replicas',
    '  balance roundrobin',
    '  option httpchk GET /healthz',
    '  http-check expect status 200',
    '  default-server inter 500ms fall 2 rise 2',
    ...servers.map((s) => `  server ${s.name} ${new URL(s.url).host} check`),
    '',
  ].join('\n');
}

/** The repo of the simulated fleet: node sim-NNNN with one GPU, workspace w-sim-NNNN of tenant acme placed on it. */
function fleet(nodes: readonly string[]): Record<string, string> {
  const files = fleetFiles({ nodes: 0 });
  for (const n of nodes) {
    files[`nodes/${n}.yaml`] = gpuNode(n, 1);
    files[`workspaces/acme/w-${n}.yaml`] = `apiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: w-${n}\nspec:\n  tenant: acme\n  template: tiny\n  node: ${n}\n  gpus:\n    count: 1\n    uuids: [${gpuUuid(n, 0)}]\n`;
  }
  return files;
}

interface Sim {
  child: ChildProcess;
  events: Array<Record<string, unknown>>;
  done: Promise<Record<string, unknown>>;
}

function startAgents(env: Record<string, string>): Sim {
  const child = spawn(process.execPath, [join(ROOT, 'bench', 'replica-agents.mjs')], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
  const events: Array<Record<string, unknown>> = [];
  const done = new Promise<Record<string, unknown>>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const e = JSON.parse(l) as Record<string, unknown>;
      events.push(e);
      if (e.event === 'done') resolve(e);
    });
    child.on('exit', (code) => reject(new Error(`agents exited ${code}`)));
  });
  done.catch(() => undefined);
  return { child, events, done };
}

describeReplicas('two hub replicas behind HAProxy on one PostgreSQL', () => {
  let root: string;
  let db: { url: string; drop(): Promise<void> };
  let admin: string;
  const replicas: Proc[] = [];
  let lb: ChildProcess | undefined;
  let lbUrl: string;
  let sim: Sim | undefined;
  const nodes = Array.from({ length: AGENTS }, (_, i) => `sim-${String(i + 1).padStart(4, '0')}`);

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'foundry-replicas-'));
    db = await createTestDatabase();
    const urlFile = join(root, 'database-url');
    writeFileSync(urlFile, `${db.url}\n`, { mode: 0o600 });
    // nodes, credentials and an admin token in the shared database (HubStore.open migrates it)
    const store = await HubStore.open(db.url, { poolSize: 2 });
    const creds = [];
    for (const node of nodes) creds.push({ node, credential: await store.issueNodeCredential(node), workspace: `w-${node}`, gpuUuid: gpuUuid(node, 0), tenant: 'acme' });
    admin = await store.createAdminToken('test');
    await store.close();
    writeFileSync(join(root, 'creds.json'), JSON.stringify(creds));
    // replica A's data dir holds the shared repo; B gets its own dir with infra.git linked and A's keys
    const a = join(root, 'a');
    const src = join(root, 'seed');
    writeFiles(src, fleet(nodes));
    await ensureHostedRepo(join(a, 'infra.git'));
    await seedHostedRepo(join(a, 'infra.git'), src, 'simulated fleet');
    replicas.push(await startReplica(a, urlFile));
    const b = join(root, 'b');
    mkdirSync(b);
    symlinkSync(join(a, 'infra.git'), join(b, 'infra.git'));
    for (const d of ['signing', 'secrets']) cpSync(join(a, d), join(b, d), { recursive: true });
    replicas.push(await startReplica(b, urlFile));
    const port = await freePort();
    writeFileSync(join(root, 'haproxy.cfg'), haproxyConfig(port, replicas.map((r, i) => ({ name: `r${i + 1}`, url: r.url }))));
    lb = spawn('haproxy', ['-db', '-f', join(root, 'haproxy.cfg')], { stdio: ['ignore', 'inherit', 'inherit'] });
    lbUrl = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${lbUrl}/healthz`).catch(() => undefined))?.ok, 10_000, 'haproxy');
  }, 120_000);

  afterAll(async () => {
    sim?.child.kill('SIGKILL');
    lb?.kill('SIGTERM');
    for (const r of replicas) {
      r.child.kill('SIGTERM');
      await r.exited;
    }
    await db?.drop();
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  it('a push to one replica reaches agents on both; a SIGKILLed replica loses no acked usage and its agents come back through the other', async () => {
    // usage windows start after the fleet's commit (whole seconds) and the nodes' creation
    const t0 = Math.ceil(Date.now() / 1000) * 1000 + 1000;
    await new Promise((r) => setTimeout(r, t0 + 1100 - Date.now()));
    sim = startAgents({ HUB_URL: lbUrl, CREDS: join(root, 'creds.json'), USAGE_MS: '1000', T0: String(t0), ACK_WAIT_MS: '30000' });
    await waitFor(() => sim!.events.some((e) => e.event === 'connected'), 30_000, 'agents connected');
    // both replicas hold agents (round-robin)
    const perReplica = await Promise.all(replicas.map(async (r) => ((await (await fetch(`${r.url}/metrics`, { headers: { authorization: `Bearer ${admin}` } })).text()).match(/^foundry_hub_node_connected\{[^}]*\} 1$/gm) ?? []).length));
    expect(perReplica.every((n) => n > 0)).toBe(true);

    // a push to replica A: every agent, wherever it is connected, is told to sync that revision
    const clone = join(root, 'admin-clone');
    const bearer = ['-c', `http.extraHeader=Authorization: Bearer ${admin}`];
    gitSync([...bearer, 'clone', '--quiet', `${replicas[0]!.url}/git/infra.git`, clone], root);
    writeFileSync(join(clone, 'NOTES.md'), 'maintenance friday\n');
    gitSync(['add', '-A'], clone);
    gitSync(['commit', '--quiet', '-m', 'admin notes'], clone);
    gitSync([...bearer, 'push', '--quiet', 'origin', 'HEAD:main'], clone);
    const revision = gitSync(['rev-parse', 'HEAD'], clone).stdout.trim();
    const told = (): Set<unknown> => new Set(sim!.events.filter((e) => e.event === 'sync-now' && e.revision === revision).map((e) => e.node));
    await waitFor(() => told().size === AGENTS, 10_000, 'sync-now at every agent');

    // usage flows; then replica B is killed mid-run
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + 4000 - Date.now())));
    replicas[1]!.child.kill('SIGKILL');
    await replicas[1]!.exited;
    await new Promise((r) => setTimeout(r, 4000));
    // every agent is back, as the store says (presence is written after the hello; checked while the agents
    // still run: stopping them marks them disconnected)
    const presence = await HubStore.open(db.url, { poolSize: 1 });
    try {
      await waitFor(async () => (await presence.nodes()).filter((n) => n.status === 'connected').length === AGENTS, 15_000, 'every node connected in the store');
    } finally {
      await presence.close();
    }
    sim.child.stdin!.write('stop\n');
    const result = await sim.done;
    expect(result.connected).toBe(AGENTS);
    expect(result.unacked).toBe(0);
    expect(result.disconnects as number).toBeGreaterThan(0);
    expect(result.reconnects as number).toBe(result.disconnects);

    // every (node, seq) sent is stored once: nothing lost, nothing extra, nothing refused
    const check = await HubStore.open(db.url, { poolSize: 1 });
    try {
      const rows = await check.sql.all<{ node: string; n: number; lo: number; hi: number }>('SELECT node, COUNT(*) AS n, MIN(seq) AS lo, MAX(seq) AS hi FROM usage_records GROUP BY node ORDER BY node');
      const sent = result.sent as Record<string, number>;
      expect(rows).toEqual(nodes.map((node) => ({ node, n: sent[node], lo: 1, hi: sent[node] })));
      expect((await check.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM usage_refusals'))?.n).toBe(0);
    } finally {
      await check.close();
    }
  }, 180_000);
});

// Benchmarks of the agent against a real, private Podman (see bench/README.md for the contract):
//   1. commit-to-running: `git commit` in a local repo -> all 3 containers of a new workspace running,
//      through the agent's local-repo watch (target: median < 2 s);
//   2. a no-change reconcile over 100 managed containers (target: median < 300 ms);
//   3. the agent's resident memory after idling with those containers (target < 80 MB after 10 min;
//      quick mode idles 15 s and says so);
//   4. the peer: ansible-pull + containers.podman converging the same 3-container workspace, side by
//      side with `foundry agent run --once` (first apply, no-change run, peak memory of a run).
// Needs root, podman, runc, busybox-static, git; ansible for the peer. Imports the agent from dist/.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { git, newRepo, writeInfraRepo } from './infra-repo.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const CLI = join(root, 'bin', 'foundry.js');
const IMAGE = 'localhost/foundry-test:1';
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- a private Podman (storage.conf + containers.conf, so the API service and the CLI that ansible runs share it)
async function startPodman() {
  const dir = mkdtempSync(join(tmpdir(), 'fc-bench-podman-'));
  for (const d of ['root', 'runroot', 'tmp', 'networks']) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'storage.conf'), `[storage]\ndriver = "overlay"\ngraphroot = "${dir}/root"\nrunroot = "${dir}/runroot"\n`);
  writeFileSync(join(dir, 'containers.conf'), ['[containers]', 'default_ulimits = []', '[engine]', 'runtime = "runc"', `tmp_dir = "${dir}/tmp"`, 'events_logger = "file"', '[network]', `network_config_dir = "${dir}/networks"`, 'default_subnet_pools = [{"base" = "10.215.0.0/16", "size" = 24}]', ''].join('\n'));
  const env = { ...process.env, CONTAINERS_CONF: join(dir, 'containers.conf'), CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf') };
  const podman = (args, allowFail = false) => {
    const r = spawnSync('podman', args, { env, encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0 && !allowFail) throw new Error(`podman ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const tar = join(dir, 'image.tar');
  execFileSync('bash', [join(root, 'scripts', 'build-test-image.sh'), '--tar', tar]);
  podman(['import', '--change', 'CMD ["/bin/sh"]', tar, IMAGE]);
  const socketPath = join(dir, 'podman.sock');
  const service = spawn('podman', ['system', 'service', '--time=0', `unix://${socketPath}`], { env, stdio: 'ignore' });
  for (let i = 0; i < 300 && !(await ping(socketPath)); i++) await sleep(100);
  const stop = async () => {
    podman(['rm', '--all', '--force', '--time', '0'], true);
    podman(['network', 'prune', '--force'], true);
    podman(['volume', 'prune', '--force'], true);
    service.kill('SIGTERM');
    await new Promise((r) => service.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  };
  return { dir, env, socketPath, podman, stop };
}

function ping(socketPath) {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping' }, (res) => { res.resume(); resolve(res.statusCode === 200); });
    req.on('error', () => resolve(false));
    req.end();
  });
}

function api(socketPath, path) {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(JSON.parse(body)));
    });
    req.on('error', reject);
    req.end();
  });
}

async function runningIn(pm, workspace) {
  const filters = encodeURIComponent(JSON.stringify({ label: [`foundry.cloud/workspace=${workspace}`], status: ['running'] }));
  return (await api(pm.socketPath, `/containers/json?filters=${filters}`)).length;
}

// ---- infra repos
const three = ['db', 'api', 'web'].map((name) => ({ name, image: IMAGE, pullPolicy: 'Never', command: ['sleep', '600'], env: { ROLE: name }, ...(name === 'db' ? { volumes: [{ name: 'data', mountPath: '/data' }] } : {}) }));

function writeRepo(repo, node, workspaces, templateContainers = three, sub = '.') {
  writeInfraRepo(repo, { node, template: { containers: templateContainers }, workspaces, sub });
}

function agentConfig(dir, pm, node, repo, extra = [], sub = '.') {
  const file = join(dir, `${node}.yaml`);
  writeFileSync(file, [`node: ${node}`, `repo: { url: ${repo}, branch: main, path: ${sub}, pollInterval: 1h }`, `stateDir: ${join(dir, node, 'state')}`, `cacheDir: ${join(dir, node, 'cache')}`, `podman: { socketPath: ${pm.socketPath}, stopTimeout: 0s }`, 'log: { level: warn }', ...extra, ''].join('\n'));
  return file;
}

function startAgentProcess(config, env = {}, nodeFlags = []) {
  const child = spawn(process.execPath, [...nodeFlags, CLI, 'agent', 'run', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let err = '';
  child.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
  return { child, stderr: () => err };
}

async function until(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

// ---- 1. commit-to-running through the local-repo watch
async function commitToRunning(pm, dir, quick) {
  const node = 'bench-watch';
  const repo = newRepo(join(dir, 'watch-repo'));
  writeRepo(repo, node, []);
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'empty']);
  const config = agentConfig(dir, pm, node, repo);
  const agent = startAgentProcess(config);
  try {
    await until(() => existsSync(join(dir, node, 'state', 'status.json')), 60_000, 'the first reconcile');
    const times = [];
    const runs = quick ? 3 : 9;
    const live = [];
    for (let i = 0; i < runs; i++) {
      const ws = `watch-${i}`;
      live.push(ws);
      writeRepo(repo, node, live);
      git(repo, ['add', '-A']);
      const t0 = performance.now();
      git(repo, ['commit', '-q', '-m', `add ${ws}`]);
      await until(async () => (await runningIn(pm, ws)) === 3, 60_000, `${ws} running`);
      times.push(performance.now() - t0);
      await sleep(300);
    }
    return { figure: 'commit-to-running, 3-container workspace (local repo watch)', median: median(times), unit: 'ms', runs, target: '< 2000 ms', met: median(times) < 2000 };
  } finally {
    agent.child.kill('SIGTERM');
    await new Promise((r) => agent.child.once('exit', r));
  }
}

// ---- 2 and 3. no-change reconcile and idle memory with N managed containers
async function manyContainers(pm, dir, quick, notes) {
  const { buildReconciler } = await import('../dist/agent/reconcile/gitops-loop.js');
  const { loadAgentConfig } = await import('../dist/agent/config/load-config.js');
  const { pino } = await import('pino');
  const node = 'bench-many';
  const count = quick ? 20 : 100;
  const repo = newRepo(join(dir, 'many-repo'));
  const perWs = 4;
  const containers = Array.from({ length: perWs }, (_, i) => ({ name: `c${i}`, image: IMAGE, pullPolicy: 'Never', command: ['sleep', '3600'] }));
  writeRepo(repo, node, Array.from({ length: count / perWs }, (_, i) => `many-${i}`), containers);
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', `${count} containers`]);
  // The agent's own composition for this config (for a local repo: GitSource behind LocalRepoShortcut).
  const reconciler = await buildReconciler(await loadAgentConfig(agentConfig(dir, pm, node, repo)), pino({ level: 'silent' }));
  const t0 = performance.now();
  const first = await reconciler.trigger('bench');
  if (!first.converged) throw new Error(`first apply of ${count} containers did not converge: ${first.status.errors[0]?.message ?? ''}`);
  notes.push(`first apply of ${count} containers (${count / perWs} workspaces, in-process): ${Math.round(performance.now() - t0)} ms`);
  const times = [];
  const runs = quick ? 5 : 15;
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    const r = await reconciler.trigger('bench');
    times.push(performance.now() - s);
    if (r.status.lastReconcile.counts.noop !== r.status.resources.length) throw new Error('the no-change reconcile changed something');
  }
  const rows = [{ figure: `no-change reconcile, ${count} managed containers (git fetch + observe + plan)`, median: median(times), unit: 'ms', runs, target: '< 300 ms', met: median(times) < 300 }];

  // Memory: the agent as a process, idle (poll every 60 s) with these containers, one process per variant
  // of node flags, side by side. BENCH_AGENT_FLAGS='flags;flags' (';'-separated) and BENCH_IDLE_S try others.
  const idleMs = process.env.BENCH_IDLE_S !== undefined ? Number(process.env.BENCH_IDLE_S) * 1000 : quick ? 15_000 : 600_000;
  const variants = process.env.BENCH_AGENT_FLAGS !== undefined ? process.env.BENCH_AGENT_FLAGS.split(';').map((f) => [f.trim(), f.trim() === '' ? 'no flags' : `node ${f.trim()}`]) : [['', 'default']];
  const agents = variants.map(([flags], i) => {
    const cfgNode = `${node}-rss${i}`;
    const cfg = agentConfig(dir, pm, node, repo);
    const file = join(dir, `${cfgNode}.yaml`);
    writeFileSync(file, readFileSync(cfg, 'utf8').replace('pollInterval: 1h', 'pollInterval: 60s').replaceAll(join(dir, node), join(dir, cfgNode)));
    return { ...startAgentProcess(file, {}, flags === '' ? [] : flags.split(/\s+/)), state: join(dir, cfgNode, 'state', 'status.json') };
  });
  try {
    for (const a of agents) await until(() => existsSync(a.state), 120_000, 'the agent to start');
    await sleep(idleMs);
    agents.forEach((a, i) => {
      const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${a.child.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
      rows.push({ figure: `agent RSS after ${Math.round(idleMs / 1000)} s idle, ${count} containers, ${variants[i][1]}${quick ? ' (quick: short idle)' : ''}`, median: rss, unit: 'MB', runs: 1, target: quick ? '< 80 MB after 10 min (not judged in quick mode)' : '< 80 MB (10 min)', met: quick ? undefined : rss < 80 });
    });
  } finally {
    for (const a of agents) {
      a.child.kill('SIGTERM');
      await new Promise((r) => a.child.once('exit', r));
    }
  }
  return rows;
}

// ---- 4. the peer: ansible-pull + containers.podman vs foundry agent run --once, same workspace
function timed(cmd, args, env) {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { env, encoding: 'utf8', timeout: 300_000 });
  const ms = performance.now() - t0;
  const rssKb = Number(r.stderr.trim().split('\n').at(-1));
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(' ')} failed (${r.status}): ${(r.stdout + r.stderr).slice(-600)}`);
  return { ms, rssMb: rssKb / 1024 };
}

async function peer(pm, dir, quick, notes) {
  const hasAnsible = spawnSync('ansible-pull', ['--version'], { stdio: 'ignore' }).status === 0;
  const hasCollection = hasAnsible && spawnSync('ansible-doc', ['-t', 'module', 'containers.podman.podman_container'], { stdio: 'ignore', timeout: 60_000 }).status === 0;
  const node = 'bench-peer';
  const repo = newRepo(join(dir, 'peer-repo'));
  // The infra files under infra/ (the agent reads every YAML of its path), the playbook at the top.
  writeRepo(repo, node, ['peer-agent'], three, 'infra');
  copyFileSync(join(here, 'ansible', 'local.yml'), join(repo, 'local.yml'));
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'same workspace for both']);
  const config = agentConfig(dir, pm, node, repo, [], 'infra');
  const agentRun = () => timed(process.execPath, [CLI, 'agent', 'run', '--once', '--config', config], process.env);
  const ansibleEnv = { ...pm.env, ANSIBLE_LOCALHOST_WARNING: 'false', ANSIBLE_INVENTORY_UNPARSED_WARNING: 'false', ANSIBLE_RETRY_FILES_ENABLED: 'false', ANSIBLE_NOCOLOR: '1' };
  const ansibleRun = () => timed('ansible-pull', ['-U', repo, '-C', 'main', '-d', join(dir, 'ansible-checkout'), '-i', 'localhost,', '-e', `image=${IMAGE}`, '-e', 'ws=peer-ansible', 'local.yml'], ansibleEnv);
  const reset = (ws) => {
    for (const c of ['db', 'api', 'web']) pm.podman(['rm', '-f', '-t', '0', `fc-ws-${ws}-${c}`], true);
    pm.podman(['network', 'rm', '-f', `fc-ws-${ws}`], true);
    pm.podman(['volume', 'rm', '-f', `fc-ws-${ws}-data`], true);
  };
  const runs = quick ? 2 : 5;
  const a = { first: [], again: [], rss: [] };
  const p = { first: [], again: [], rss: [] };
  for (let i = 0; i < runs; i++) {
    reset('peer-agent');
    const f = agentRun();
    const g = agentRun();
    a.first.push(f.ms); a.again.push(g.ms); a.rss.push(Math.max(f.rssMb, g.rssMb));
    if (hasCollection) {
      reset('peer-ansible');
      const pf = ansibleRun();
      const pg = ansibleRun();
      if ((await runningIn(pm, 'peer-ansible')) !== 3) throw new Error('ansible-pull did not start the 3 containers');
      p.first.push(pf.ms); p.again.push(pg.ms); p.rss.push(Math.max(pf.rssMb, pg.rssMb));
    }
  }
  if (!hasCollection) notes.push(hasAnsible ? 'peer not run: the containers.podman collection is not installed (ansible-doc cannot find containers.podman.podman_container)' : 'peer not run: ansible is not installed (apt-get install ansible brings ansible-pull and containers.podman)');
  else notes.push('peer: ansible-pull clones the same repo and runs bench/ansible/local.yml (podman_network with isolate, podman_volume, 3 podman_container) through the podman CLI on the same private storage; both sides are whole processes (wall time, peak RSS from /usr/bin/time)');
  const row = (figure, mine, theirs, unit, target) => {
    const m = median(mine);
    const t = theirs.length > 0 ? median(theirs) : undefined;
    // Judged in a full run only, against the peer measured in the same run (issue 22: below ansible-pull's peak memory).
    const met = target === undefined || t === undefined || quick ? undefined : m < t;
    return { figure, median: m, unit, runs, target, met, peer: hasCollection ? 'ansible-pull + containers.podman' : 'ansible-pull (not run, see notes)', peerMedian: t, ratio: t === undefined ? '' : `peer ${(t / m).toFixed(1)}x` };
  };
  return [
    row('first apply, 3-container workspace (`agent run --once` process)', a.first, p.first, 'ms'),
    row('no-change run, same workspace (process)', a.again, p.again, 'ms'),
    row('peak RSS of one run (process tree)', a.rss, p.rss, 'MB', '< ansible-pull'),
  ];
}

/** Runs the Podman benchmarks; quick mode: fewer runs, 20 containers instead of 100, 15 s idle instead of 10 min. */
export async function run({ quick = false } = {}) {
  if (process.getuid?.() !== 0 || spawnSync('podman', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error('needs root and podman (apt-get install -y podman runc busybox-static; scripts/host-setup.sh)');
  }
  if (!existsSync(join(root, 'dist', 'cli', 'agent-run.js')) || statSync(join(root, 'dist', 'cli', 'agent-run.js')).size === 0) throw new Error('run npm run build first');
  const dir = mkdtempSync(join(tmpdir(), 'fc-bench-'));
  const pm = await startPodman();
  const notes = [];
  try {
    const rows = [await commitToRunning(pm, dir, quick), ...(await manyContainers(pm, dir, quick, notes)), ...(await peer(pm, dir, quick, notes))];
    return { title: 'agent on podman', rows, notes };
  } finally {
    await pm.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { table } = await import('./run.mjs');
  const res = await run({ quick: process.argv.includes('--quick') });
  console.log(table([res]));
  for (const n of res.notes) console.log(`- ${n}`);
}

#!/usr/bin/env node
// Benchmark of VMs on the live OpenStack of scripts/openstack-up.sh (Nova with libvirt on this host's
// KVM): commit → server ACTIVE through a real `foundry agent run` process (openstack section in its
// config, local repo watch), and a no-change pass (list with pagination, then plan) over 20 servers.
// The libvirt driver's figures for the same steps are in the same table (bench/libvirt.bench.mjs).
import { spawn, spawnSync } from 'node:child_process';
import { git, newRepo, writeInfraRepo } from './infra-repo.mjs';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { median } from './stats.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(root, 'dist', p));
const OS_DIR = process.env.FOUNDRY_OS_DIR ?? '/var/lib/foundry-openstack';
const CLOUDS = join(OS_DIR, 'clouds.yaml');
const ms = (t) => Number(process.hrtime.bigint() - t) / 1e6;
const sleep = (n) => new Promise((r) => setTimeout(r, n));

async function until(check, what, ms = 300_000, every = 500) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(every);
  }
}

/** Commit → server ACTIVE through a real agent process; one new workspace (one VM) per commit. */
async function commitToActive(dir, prefix, driver, runs) {
  const node = `${prefix}-agent`;
  const repo = newRepo(join(dir, 'repo'));
  const write = (workspaces) => {
    writeInfraRepo(repo, { node, template: { vm: { name: 'vm', driver: 'openstack', openstack: { flavor: 'foundry.nano', image: 'foundry-tiny' } } }, workspaces, workspaceSpec: { reclaimPolicy: 'Delete' } });
    git(repo, ['add', '-A']);
  };
  write([]);
  git(repo, ['commit', '-q', '-m', 'empty']);
  const config = join(dir, 'agent.yaml');
  writeFileSync(config, [`node: ${node}`, `repo: { url: ${repo}, branch: main, pollInterval: 1h }`, `stateDir: ${join(dir, 'state')}`, `cacheDir: ${join(dir, 'cache')}`, `podman: { socketPath: ${join(dir, 'no-podman.sock')} }`, `openstack: { cloudsFile: ${CLOUDS}, cloud: foundry, networks: none, timeout: 60s }`, 'log: { level: warn }', ''].join('\n'));
  const agent = spawn(process.execPath, [join(root, 'bin', 'foundry.js'), 'agent', 'run', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  agent.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  try {
    await until(() => existsSync(join(dir, 'state', 'status.json')) || agent.exitCode !== null, 'the first reconcile', 60_000, 50);
    if (agent.exitCode !== null) throw new Error(`agent exited: ${stderr}`);
    const times = [];
    const live = [];
    for (let i = 0; i < runs; i++) {
      const ws = `${prefix}-w${i}`;
      live.push(ws);
      write(live);
      const t = process.hrtime.bigint();
      git(repo, ['commit', '-q', '-m', `add ${ws}`]);
      await until(async () => (await driver.list(node)).some((o) => o.name === `fc-ws-${ws}-vm` && o.state === 'running' && o.facts.status === 'ACTIVE'), `${ws} ACTIVE: ${stderr}`);
      times.push(ms(t));
    }
    return { figure: 'commit → server ACTIVE (agent process, local repo watch)', median: median(times), unit: 'ms', runs, peer: 'libvirt: commit → domain running (table above)' };
  } finally {
    agent.kill('SIGTERM');
    await new Promise((r) => (agent.exitCode !== null ? r() : agent.once('exit', r)));
  }
}

/** The benchmark: returns rows for bench/run.mjs. */
export async function run({ quick = false } = {}) {
  if (!existsSync(CLOUDS) || spawnSync('bash', [join(root, 'scripts', 'openstack-up.sh'), '--check'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(`no live OpenStack (run scripts/openstack-up.sh; ${CLOUDS})`);
  }
  const { loadCloud } = await dist('agent/drivers/openstack/clouds-yaml.js');
  const { OpenStackDriver } = await dist('agent/drivers/openstack/openstack-driver.js');
  const { planActions } = await dist('agent/plan.js');
  const { specHash } = await dist('common/hash.js');
  const c = loadCloud(CLOUDS, 'foundry');
  const driver = new OpenStackDriver({ authUrl: c.authUrl, credentials: c.credentials, region: c.region, noNetwork: 'none', timeoutMs: 60_000 });
  const prefix = `fo-${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const node = `${prefix}-node`;
  const vm = (i) => {
    const spec = { driver: 'openstack', vcpus: 1, memoryBytes: undefined, disk: undefined, network: undefined, userData: undefined, hostDevices: [], gpuUuids: [], openstack: { flavor: 'foundry.nano', image: 'foundry-tiny' } };
    return { kind: 'vm', ref: { kind: 'vm', scope: 'workspace', owner: prefix, name: `v${i}` }, id: `ws.${prefix}.vm.v${i}`, name: `${prefix}-v${i}`, owner: { node, workspace: prefix, tenant: 'acme' }, spec, specHash: specHash(spec), reclaimPolicy: 'Delete', run: true };
  };
  const state = (resources) => ({ node, revision: 'bench', profile: 'gpu-node', resources, allowMassPrune: true });
  const rows = [];
  // Removes every server of node `n` and waits until Nova lists none (a failed remove is retried).
  const cleanup = async (n) => {
    await until(async () => {
      const left = await driver.list(n).catch(() => undefined);
      if (left === undefined) return false;
      for (const o of left) if (o.facts.status !== 'DELETED') await driver.apply({ type: 'remove', kind: 'vm', id: o.id, reason: 'bench', desired: undefined, observed: o }).catch(() => undefined);
      return left.length === 0;
    }, `the servers of ${n} deleted`, 180_000, 2000);
  };
  try {
    rows.push(await commitToActive(dir, prefix, driver, quick ? 1 : 3));
    await cleanup(`${prefix}-agent`);

    // No-change pass over N ACTIVE servers: list (pages of 5 here: [api] max_limit) + plan.
    const n = quick ? 3 : 20;
    const fleet = Array.from({ length: n }, (_, i) => vm(i));
    for (const d of fleet) await driver.apply({ type: 'create', kind: 'vm', id: d.id, reason: 'bench', desired: d, observed: undefined });
    await until(async () => (await driver.list(node)).filter((o) => o.facts.status === 'ACTIVE').length === n, `${n} servers ACTIVE`, 600_000, 2000);
    const passes = quick ? 2 : 5;
    const listTimes = [];
    const planTimes = [];
    for (let i = 0; i < passes; i++) {
      const t = process.hrtime.bigint();
      const observed = await driver.list(node);
      const tPlan = process.hrtime.bigint();
      const plan = planActions(state(fleet), observed);
      planTimes.push(ms(tPlan));
      listTimes.push(ms(t));
      if (plan.counts.noop !== n) throw new Error(`expected ${n} unchanged, got ${JSON.stringify(plan.counts)}`);
    }
    rows.push({ figure: `no-change list + plan, ${n} ACTIVE servers`, median: median(listTimes), unit: 'ms', runs: passes, peer: `libvirt: no-change list + plan (table above)` });
    rows.push({ figure: '  of which plan (pure)', median: median(planTimes), unit: 'ms', runs: passes });
  } finally {
    await cleanup(node);
    await cleanup(`${prefix}-agent`);
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    title: 'VMs on a live OpenStack (Nova + libvirt/KVM, scripts/openstack-up.sh)',
    rows,
    notes: [
      'One all-in-one Zed cloud on the benchmark machine itself (Keystone, Placement, Glance, Neutron API, Nova API/conductor/scheduler/compute, PostgreSQL, RabbitMQ): its API latency is part of every figure, and it shares the cores with the agent.',
      'Guests are 64 MiB with no bootable OS, as in the libvirt benchmark; ACTIVE is Nova saying the domain runs.',
      'list pages at 5 servers ([api] max_limit = 5 in openstack-up.sh), so 20 servers take 5 GET /servers/detail.',
    ],
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { table } = await import('./run.mjs');
  const res = await run({ quick: process.argv.includes('--quick') });
  console.log(table([res]));
}

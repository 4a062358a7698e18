#!/usr/bin/env node
// Benchmark of VMs on the real qemu:///system (KVM): commit to the domain `running` through a real
// `foundry agent run` process (local repo watch, libvirt section in its config; median of 5), time from
// the driver's `apply(create)` (overlay disk, seed ISO, define, start) to `running`, and a no-change pass
// (list with dumpxml + domstate per domain, then plan) over 20 running domains.
import { spawn, spawnSync } from 'node:child_process';
import { git, newRepo, writeInfraRepo } from './infra-repo.mjs';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { median } from './stats.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(root, 'dist', p));
const URI = 'qemu:///system';

const ms = (t) => Number(process.hrtime.bigint() - t) / 1e6;
const virsh = (args) => spawnSync('virsh', ['-q', '-c', URI, ...args], { encoding: 'utf8' });

/** Commit → domain running through a real agent process; one new workspace (one VM) per commit. */
async function commitToRunning(dir, prefix, base, quick) {
  const node = `${prefix}-agent`;
  const network = `${prefix}-net`;
  // An isolated network (no forward, no ip: no dnsmasq needed); bridge names have at most 15 characters.
  const netXml = join(dir, 'net.xml');
  writeFileSync(netXml, `<network><name>${network}</name><bridge name='vbfb${prefix.slice(-6)}' stp='off'/></network>`);
  if (virsh(['net-create', netXml]).status !== 0) throw new Error(`cannot create libvirt network ${network}`);
  const repo = newRepo(join(dir, 'repo'));
  const write = (workspaces) => {
    writeInfraRepo(repo, { node, template: { vm: { name: 'vm', driver: 'libvirt', vcpus: 1, memory: '64Mi', disk: { baseImage: basename(base) }, network } }, workspaces, workspaceSpec: { reclaimPolicy: 'Delete' } });
    git(repo, ['add', '-A']);
  };
  write([]);
  git(repo, ['commit', '-q', '-m', 'empty']);
  const config = join(dir, 'agent.yaml');
  writeFileSync(config, [`node: ${node}`, `repo: { url: ${repo}, branch: main, pollInterval: 1h }`, `stateDir: ${join(dir, 'state')}`, `cacheDir: ${join(dir, 'cache')}`, `podman: { socketPath: ${join(dir, 'no-podman.sock')} }`, `libvirt: { uri: ${URI}, diskDir: ${join(dir, 'disks')}, imageDir: ${dirname(base)}, shutdownTimeout: 0s }`, 'log: { level: warn }', ''].join('\n'));
  const agent = spawn(process.execPath, [join(root, 'bin', 'foundry.js'), 'agent', 'run', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  agent.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const until = async (check, what) => {
    const deadline = Date.now() + 60_000;
    while (!check()) {
      if (Date.now() > deadline || agent.exitCode !== null) throw new Error(`timed out waiting for ${what}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  try {
    await until(() => existsSync(join(dir, 'state', 'status.json')), 'the first reconcile');
    const runs = quick ? 2 : 5;
    const times = [];
    const live = [];
    for (let i = 0; i < runs; i++) {
      const ws = `${prefix}-w${i}`;
      live.push(ws);
      write(live);
      const t = process.hrtime.bigint();
      git(repo, ['commit', '-q', '-m', `add ${ws}`]);
      await until(() => virsh(['domstate', `fc-ws-${ws}-vm`]).stdout.trim() === 'running', `${ws} running`);
      times.push(ms(t));
    }
    return { figure: 'commit → domain running (agent process, local repo watch)', median: median(times), unit: 'ms', runs };
  } finally {
    agent.kill('SIGTERM');
    await new Promise((r) => agent.once('exit', r));
    virsh(['net-destroy', network]);
  }
}

/** The benchmark: returns rows for bench/run.mjs. */
export async function run({ quick = false } = {}) {
  if (virsh(['version']).status !== 0) throw new Error('libvirt not reachable at qemu:///system (run scripts/host-setup.sh)');
  const { LibvirtDriver } = await dist('agent/drivers/libvirt/libvirt-driver.js');
  const { planActions } = await dist('agent/plan.js');
  const { specHash } = await dist('common/hash.js');
  const prefix = `fb-${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const node = `${prefix}-node`;
  const base = join(dir, 'base.qcow2');
  spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', base, '64M']);
  const driver = new LibvirtDriver({ uri: URI, diskDir: dir, imageDir: dir, defaultNetwork: null, shutdownTimeoutMs: 0, pollMs: 50 });
  const vm = (i) => {
    const spec = { driver: 'libvirt', vcpus: 1, memoryBytes: 64 * 1024 * 1024, disk: { baseImage: base, sizeBytes: undefined }, network: undefined, userData: '#cloud-config\n', hostDevices: [], gpuUuids: [], openstack: undefined };
    return { kind: 'vm', id: `ws.${prefix}.vm.v${i}`, name: `${prefix}-v${i}`, owner: { node }, spec, specHash: specHash(spec), reclaimPolicy: 'Delete', run: true };
  };
  const state = (resources) => ({ node, revision: 'bench', profile: 'gpu-node', resources, allowMassPrune: true });
  const remove = async (d) => {
    const [o] = (await driver.list(node)).filter((x) => x.id === d.id);
    if (o) await driver.apply({ type: 'remove', kind: 'vm', id: d.id, reason: 'bench', desired: undefined, observed: o });
  };
  const rows = [];
  try {
    rows.push(await commitToRunning(dir, prefix, base, quick));

    // define → running, fresh each time (the disk is deleted in between: reclaim Delete).
    const runs = quick ? 2 : 5;
    const times = [];
    for (let i = 0; i < runs; i++) {
      const d = vm(100 + i);
      const t = process.hrtime.bigint();
      await driver.apply({ type: 'create', kind: 'vm', id: d.id, reason: 'bench', desired: d, observed: undefined });
      while (virsh(['domstate', d.name]).stdout.trim() !== 'running') await new Promise((r) => setTimeout(r, 10));
      times.push(ms(t));
      await remove(d);
    }
    rows.push({ figure: 'create → domain running (overlay, seed, define, start)', median: median(times), unit: 'ms', runs });

    // No-change pass over N running domains: list (dumpxml + domstate each) + plan.
    const n = quick ? 5 : 20;
    const fleet = Array.from({ length: n }, (_, i) => vm(i));
    for (const d of fleet) await driver.apply({ type: 'create', kind: 'vm', id: d.id, reason: 'bench', desired: d, observed: undefined });
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
    rows.push({ figure: `no-change list + plan, ${n} running domains`, median: median(listTimes), unit: 'ms', runs: passes });
    rows.push({ figure: `  of which plan (pure)`, median: median(planTimes), unit: 'ms', runs: passes });
    for (const d of fleet) await remove(d);
  } finally {
    // Leave nothing behind, even after a failure.
    for (const name of virsh(['list', '--all', '--name']).stdout.split('\n').map((s) => s.trim()).filter((s) => s.startsWith(prefix) || s.startsWith(`fc-ws-${prefix}`))) {
      virsh(['destroy', name]);
      virsh(['undefine', '--nvram', name]);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    title: 'VMs on libvirt (qemu:///system, KVM)',
    rows,
    notes: [
      'Guests are 64 MiB with no bootable OS (they reach `running` at once); a real image adds its boot time, which the agent does not control.',
      'commit → running: a real `foundry agent run` process watching a local git repo (no Podman socket: VMs only), clock started just before `git commit`, stopped when `virsh domstate` says running.',
      'list costs two virsh processes per domain (dumpxml, domstate), 4 in parallel.',
    ],
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { table } = await import('./run.mjs');
  const res = await run({ quick: process.argv.includes('--quick') });
  console.log(table([res]));
  for (const n of res.notes) console.log(`- ${n}`);
}

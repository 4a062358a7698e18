#!/usr/bin/env node
// Benchmark of the libvirt driver on the real qemu:///system (KVM): time from `apply(create)` (overlay
// disk, seed ISO, define, start) to the domain reported `running`, and a no-change pass (list with
// dumpxml + domstate per domain, then plan) over 20 running domains. The full commit-to-running path also
// includes the agent's fetch/render/loop, which this driver does not control; it is not measured here.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(root, 'dist', p));
const URI = 'qemu:///system';

/** Median of numbers. */
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const ms = (t) => Number(process.hrtime.bigint() - t) / 1e6;
const virsh = (args) => spawnSync('virsh', ['-q', '-c', URI, ...args], { encoding: 'utf8' });

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
  const driver = new LibvirtDriver({ uri: URI, diskDir: dir, defaultNetwork: null, shutdownTimeoutMs: 0, pollMs: 50 });
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
    for (const name of virsh(['list', '--all', '--name']).stdout.split('\n').map((s) => s.trim()).filter((s) => s.startsWith(prefix))) {
      virsh(['destroy', name]);
      virsh(['undefine', '--nvram', name]);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    title: 'libvirt driver (qemu:///system, KVM)',
    rows,
    notes: [
      'Guests are 64 MiB with no bootable OS (they reach `running` at once); a real image adds its boot time, which the agent does not control.',
      'Commit-to-running also includes the agent loop (fetch, render, plan), measured by the agent benchmarks; this table covers only what the driver does.',
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

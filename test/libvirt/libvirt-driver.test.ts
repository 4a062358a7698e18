/**
 * The libvirt driver against the real libvirtd (qemu:///system, KVM): define and boot, recreate on spec
 * change with the same disk, restore after destroy and undefine by hand, prune (disk kept / deleted),
 * and never touch a domain we did not create.
 */
import { existsSync, statSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { planActions, type PlanResult } from '../../agent/plan.js';
import type { DesiredVm } from '../../agent/desired.js';
import { LibvirtDriver } from '../../agent/drivers/libvirt/libvirt-driver.js';
import { parseDomainXml } from '../../agent/drivers/libvirt/domain-parse.js';
import { runCommand, type CommandRunner } from '../../common/run-command.js';
import { describeIf } from '../support/requires.js';
import { virshDefine, desiredVm, libvirtAvailable, LIBVIRT_HOW, makeSandbox, sh, state, URI, virshTry, type Sandbox } from './helpers.js';

describeIf(libvirtAvailable, 'libvirt', LIBVIRT_HOW)('libvirt driver (real qemu:///system)', () => {
  let sb: Sandbox;
  let driver: LibvirtDriver;
  let vm: DesiredVm;
  let foreign: string;
  let otherNode: string;

  /** One reconcile pass with the real planner; returns the plan it carried out. */
  async function converge(resources: DesiredVm[]): Promise<PlanResult> {
    const plan = planActions(state(sb, resources), await driver.list(`${sb.prefix}-node`));
    for (const a of plan.actions) await driver.apply(a);
    return plan;
  }
  const types = (plan: PlanResult): string[] => plan.actions.map((a) => `${a.type} ${a.id}`);
  const domstate = (name: string): string => virshTry(['domstate', name]).out.trim();
  const dom = (name: string) => parseDomainXml(sh('virsh', ['-c', URI, 'dumpxml', name]));

  /** virsh sub-commands the driver ran, in order (argv recorded by wrapping the real runner). */
  const calls: string[] = [];
  const recording: CommandRunner = (cmd, args, opts) => {
    if (cmd === 'virsh') calls.push(String(args[3]));
    return runCommand(cmd, args, opts);
  };

  beforeAll(() => {
    sb = makeSandbox('lv');
    driver = new LibvirtDriver({ uri: URI, diskDir: sb.dir, imageDir: sb.dir, shutdownTimeoutMs: 1500, pollMs: 100, defaultNetwork: null, run: recording });
    vm = desiredVm(sb, 'desk');
    // A domain without our metadata, and one with our metadata but for another node.
    foreign = `${sb.prefix}-foreign`;
    virshDefine('define', `<domain type='kvm'><name>${foreign}</name><memory unit='MiB'>32</memory><os><type arch='x86_64'>hvm</type></os></domain>`);
    otherNode = `${sb.prefix}-other`;
    virshDefine('define', `<domain type='kvm'><name>${otherNode}</name><metadata><x:agent xmlns:x="https://foundry.cloud/xmlns/agent/v1"><x:managed-by>foundry-agent</x:managed-by><x:node>elsewhere</x:node><x:id>ws.other.vm.x</x:id></x:agent></metadata><memory unit='MiB'>32</memory><os><type arch='x86_64'>hvm</type></os></domain>`);
  });
  afterAll(() => sb?.cleanup());

  it('probes libvirt', async () => {
    const p = await driver.probe();
    expect(p.available).toBe(true);
    expect(p.message).toContain('qemu:///system');
  });

  it('defines and boots a guest with an overlay disk, a seed and our metadata', async () => {
    const plan = await converge([vm]);
    expect(types(plan)).toEqual([`create ${vm.id}`]);
    expect(domstate(vm.name)).toBe('running');
    const observed = await driver.list(`${sb.prefix}-node`);
    expect(observed).toHaveLength(1);
    expect(observed[0]).toMatchObject({ kind: 'vm', id: vm.id, name: vm.name, specHash: vm.specHash, state: 'running', reclaimPolicy: 'Retain', owner: vm.owner });
    const d = dom(vm.name);
    expect(d.foundry).toMatchObject({ 'managed-by': 'foundry-agent', node: `${sb.prefix}-node`, id: vm.id, 'spec-hash': vm.specHash, workspace: `${sb.prefix}-ws`, tenant: 'acme', reclaim: 'Retain' });
    expect(d.diskFiles).toEqual([driver.disks.overlayPath(vm.id), driver.disks.seedPath(vm.id)]);
    const info = JSON.parse(sh('qemu-img', ['info', '--output=json', '-U', driver.disks.overlayPath(vm.id)])) as Record<string, unknown>;
    expect(info['backing-filename']).toBe(sb.baseImage);
    expect(info['backing-filename-format']).toBe('qcow2');
    const iso = sh('isoinfo', ['-d', '-i', driver.disks.seedPath(vm.id)]);
    expect(iso).toContain('Volume id: cidata');
    expect(sh('isoinfo', ['-J', '-x', '/user-data', '-i', driver.disks.seedPath(vm.id)])).toBe(vm.spec.userData);
    expect(sh('isoinfo', ['-J', '-x', '/meta-data', '-i', driver.disks.seedPath(vm.id)])).toBe(`instance-id: "${vm.id}"\nlocal-hostname: "${vm.name}"\n`);
    expect(statSync(driver.disks.seedPath(vm.id)).mode & 0o777).toBe(0o600);
    // A second pass changes nothing.
    expect((await converge([vm])).counts).toMatchObject({ create: 0, recreate: 0, start: 0, remove: 0, noop: 1 });
  });

  it('recreates on a spec change, keeping the domain uuid and the disk file', async () => {
    const before = { uuid: dom(vm.name).uuid, ino: statSync(driver.disks.overlayPath(vm.id)).ino };
    vm = desiredVm(sb, 'desk', { vcpus: 2, memoryBytes: 96 * 1024 * 1024 });
    calls.length = 0;
    const plan = await converge([vm]);
    expect(types(plan)).toEqual([`recreate ${vm.id}`]);
    // Graceful first: shutdown, poll the state until the timeout (this guest has no OS to obey ACPI), then destroy.
    const acts = calls.filter((c) => !['list', 'dumpxml', 'domstate'].includes(c));
    expect(acts).toEqual(['shutdown', 'destroy', 'define', 'start']);
    expect(calls.filter((c) => c === 'domstate').length).toBeGreaterThan(3);
    const d = dom(vm.name);
    expect(d.vcpus).toBe(2);
    expect(d.memoryKiB).toBe(96 * 1024);
    expect(d.foundry?.['spec-hash']).toBe(vm.specHash);
    expect(d.uuid).toBe(before.uuid);
    expect(statSync(driver.disks.overlayPath(vm.id)).ino).toBe(before.ino);
    expect(domstate(vm.name)).toBe('running');
  });

  it('starts a guest destroyed by hand', async () => {
    sh('virsh', ['-c', URI, 'destroy', vm.name]);
    const plan = await converge([vm]);
    expect(types(plan)).toEqual([`start ${vm.id}`]);
    expect(domstate(vm.name)).toBe('running');
  });

  it('defines again a guest undefined by hand, on the same disk', async () => {
    const ino = statSync(driver.disks.overlayPath(vm.id)).ino;
    sh('virsh', ['-c', URI, 'destroy', vm.name]);
    sh('virsh', ['-c', URI, 'undefine', vm.name]);
    const plan = await converge([vm]);
    expect(types(plan)).toEqual([`create ${vm.id}`]);
    expect(domstate(vm.name)).toBe('running');
    expect(statSync(driver.disks.overlayPath(vm.id)).ino).toBe(ino);
  });

  it('refuses to take over a domain of the same name that is not ours', async () => {
    const clash = desiredVm(sb, 'foreign');
    await expect(driver.apply({ type: 'create', kind: 'vm', id: clash.id, key: clash.id, reason: 'test', desired: clash, observed: undefined, phase: 2 })).rejects.toMatchObject({ code: 'VM_ACTION', resource: clash.id });
    expect(dom(foreign).foundry).toBeUndefined();
  });

  it('prunes a guest no longer declared and keeps its disk (Retain)', async () => {
    const plan = await converge([]);
    expect(types(plan)).toEqual([`remove ${vm.id}`]);
    expect(virshTry(['dominfo', vm.name]).ok).toBe(false);
    expect(existsSync(driver.disks.overlayPath(vm.id))).toBe(true);
    expect(existsSync(driver.disks.seedPath(vm.id))).toBe(false);
  });

  it('deletes the disk when the reclaim policy is Delete', async () => {
    const tmp = desiredVm(sb, 'tmp', { userData: undefined, network: undefined }, { reclaimPolicy: 'Delete' });
    await converge([tmp]);
    expect(domstate(tmp.name)).toBe('running');
    expect(existsSync(driver.disks.overlayPath(tmp.id))).toBe(true);
    const plan = await converge([]);
    expect(types(plan)).toEqual([`remove ${tmp.id}`]);
    expect(virshTry(['dominfo', tmp.name]).ok).toBe(false);
    expect(existsSync(driver.disks.overlayPath(tmp.id))).toBe(false);
  });

  it('never lists nor touched the domains it did not create', async () => {
    expect(await driver.list(`${sb.prefix}-node`)).toEqual([]);
    expect(virshTry(['dominfo', foreign]).ok).toBe(true);
    expect(dom(otherNode).foundry?.node).toBe('elsewhere');
  });
});

/** Helpers for the real libvirt tests: a unique prefix, a tiny base image, an isolated network, and cleanup. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { specHash } from '../../common/hash.js';
import type { DesiredState, DesiredVm, VmSpec } from '../../agent/desired.js';
import { commandWorks } from '../support/requires.js';

export const URI = 'qemu:///system';

/** libvirt with QEMU/KVM, qemu-img and an ISO tool are all needed. */
export const libvirtAvailable = commandWorks('virsh', ['-c', URI, 'version']) && commandWorks('qemu-img') && commandWorks('genisoimage', ['--version']);
export const LIBVIRT_HOW = 'install libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils genisoimage and run scripts/host-setup.sh (see ../shared/HOST-NOTES.md)';

/** Any tool with argv; returns stdout, throws on failure. */
export function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** `virsh define` or `net-define` from an XML string (through a temp file: Node's child stdin is a socket). */
export function virshDefine(command: 'define' | 'net-define', xml: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'ft-xml-'));
  try {
    writeFileSync(join(dir, 'x.xml'), xml);
    sh('virsh', ['-q', '-c', URI, command, '--file', join(dir, 'x.xml')]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** virsh on the system URI, ignoring failure; returns the result. */
export function virshTry(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('virsh', ['-q', '-c', URI, ...args], { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

/** A run's sandbox: prefix for every name, temp dir for disks, a base image, an isolated network. */
export interface Sandbox {
  prefix: string;
  dir: string;
  baseImage: string;
  network: string;
  cleanup(): void;
}

/** Creates the sandbox; cleanup() removes every domain and the network whose name starts with the prefix. */
export function makeSandbox(tag: string): Sandbox {
  const rand = randomBytes(3).toString('hex');
  const prefix = `ft-${tag}-${rand}`;
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const baseImage = join(dir, 'base.qcow2');
  const network = `${prefix}-net`;
  const sandbox: Sandbox = {
    prefix,
    dir,
    baseImage,
    network,
    cleanup() {
      const names = virshTry(['list', '--all', '--name']).out.split('\n').map((s) => s.trim()).filter((s) => s.startsWith(prefix));
      for (const n of names) {
        virshTry(['destroy', n]);
        virshTry(['undefine', '--nvram', n]);
      }
      virshTry(['net-destroy', network]);
      virshTry(['net-undefine', network]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    sh('qemu-img', ['create', '-q', '-f', 'qcow2', baseImage, '64M']);
    // Isolated (no forward, no ip): needs no dnsmasq. Bridge names are limited to 15 characters.
    virshDefine('net-define', `<network><name>${network}</name><bridge name='vbft${rand}' stp='off'/></network>`);
    sh('virsh', ['-q', '-c', URI, 'net-start', network]);
  } catch (err) {
    sandbox.cleanup();
    throw err;
  }
  return sandbox;
}

/** A libvirt DesiredVm for tests; the spec hash follows the spec. */
export function desiredVm(sb: Sandbox, short: string, spec: Partial<VmSpec> = {}, extra: Partial<Pick<DesiredVm, 'run' | 'reclaimPolicy'>> = {}): DesiredVm {
  const full: VmSpec = {
    driver: 'libvirt',
    vcpus: 1,
    memoryBytes: 64 * 1024 * 1024,
    disk: { baseImage: sb.baseImage, sizeBytes: undefined },
    network: sb.network,
    userData: '#cloud-config\nhostname: test\n',
    hostDevices: [],
    gpuUuids: [],
    openstack: undefined,
    ...spec,
  };
  return {
    kind: 'vm',
    ref: { kind: 'vm', scope: 'workspace', owner: `${sb.prefix}-ws`, name: short },
    id: `ws.${sb.prefix}.vm.${short}`,
    name: `${sb.prefix}-${short}`,
    owner: { node: `${sb.prefix}-node`, workspace: `${sb.prefix}-ws`, tenant: 'acme' },
    spec: full,
    specHash: specHash(full),
    reclaimPolicy: extra.reclaimPolicy ?? 'Retain',
    run: extra.run ?? true,
  };
}

/** The desired state of the sandbox node. */
export function state(sb: Sandbox, resources: DesiredVm[], allowMassPrune = true): DesiredState {
  return { node: `${sb.prefix}-node`, revision: 'test', profile: 'gpu-node', resources, allowMassPrune };
}

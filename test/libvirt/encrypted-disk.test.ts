/**
 * Encrypted VM disks against the real libvirtd (qemu:///system, KVM): a node without the key neither
 * creates nor boots the disk (VOLUME_KEY_MISSING naming the VM); with it the overlay is a LUKS qcow2 whose
 * passphrase lives in an ephemeral, private libvirt secret; a marker written into the disk (with qemu-io,
 * as the guest would) is not in the file; after a libvirtd restart (the secret gone) the key defines it
 * again and the guest boots; deleting (reclaim Delete) undefines the secret, forgets the key and deletes
 * the disk, and a copy taken before opens only with that key.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { planActions } from '../../agent/plan.js';
import type { DesiredVm } from '../../agent/desired.js';
import { LibvirtDriver } from '../../agent/drivers/libvirt/libvirt-driver.js';
import { passphraseOf, secretUuidFor } from '../../agent/drivers/libvirt/disk-secrets.js';
import { VolumeKeyring } from '../../agent/volumes/keyring.js';
import { isFoundryError } from '../../common/errors.js';
import type { VolumeKeyRef } from '../../common/volumes/volume-key-ref.js';
import { describeIf } from '../support/requires.js';
import { desiredVm, libvirtAvailable, LIBVIRT_HOW, makeSandbox, sh, state, virshTry, type Sandbox } from './helpers.js';

const MARKER = `FOUNDRYDISKMARKER${randomBytes(8).toString('hex')}`;

describeIf(libvirtAvailable && spawnSync('qemu-io', ['--version']).status === 0, 'libvirt and qemu-io', LIBVIRT_HOW)('encrypted vm disks (real libvirt)', () => {
  let sb: Sandbox;
  let ref: VolumeKeyRef;
  let vm: DesiredVm;
  let work: string;
  const key = randomBytes(32);
  const driverWith = (keys: VolumeKeyring): LibvirtDriver => new LibvirtDriver({ uri: 'qemu:///system', diskDir: sb.dir, imageDir: sb.dir, shutdownTimeoutMs: 1000, pollMs: 100, defaultNetwork: null, keys });
  const keyring = (): VolumeKeyring => {
    const k = new VolumeKeyring();
    k.set(ref, key);
    return k;
  };

  async function converge(driver: LibvirtDriver, resources: DesiredVm[]): Promise<Record<string, string>> {
    const plan = planActions(state(sb, resources), await driver.list(`${sb.prefix}-node`));
    const errors: Record<string, string> = {};
    for (const a of plan.actions) {
      try {
        await driver.apply(a);
      } catch (err) {
        errors[a.id] = isFoundryError(err) ? `${err.code}: ${err.message}` : String(err);
      }
    }
    return errors;
  }
  /** qemu-io on a LUKS qcow2 with `passphrase`; returns its exit status and output. */
  function qemuIo(file: string, passphrase: string, command: string): { ok: boolean; out: string } {
    const keyFile = join(work, 'pass');
    writeFileSync(keyFile, passphrase, { mode: 0o600 });
    try {
      const r = spawnSync('qemu-io', ['--object', `secret,id=k,file=${keyFile}`, '--image-opts', `driver=qcow2,file.filename=${file},encrypt.key-secret=k`, '-c', command], { encoding: 'utf8', cwd: work });
      return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
    } finally {
      rmSync(keyFile, { force: true });
    }
  }
  const fileHasMarker = (file: string): boolean => spawnSync('grep', ['-c', '-a', MARKER, file]).status === 0;

  beforeAll(() => {
    sb = makeSandbox('enc');
    work = mkdtempSync(join(tmpdir(), 'ft-enc-work-'));
    writeFileSync(join(work, 'marker'), MARKER);
    ref = { workspace: `${sb.prefix}-ws`, kind: 'vm-disk', name: 'enc' };
    vm = desiredVm(sb, 'enc', { diskEncryption: { format: 'luks', key: ref }, userData: undefined }, { reclaimPolicy: 'Delete' });
  });
  afterAll(() => {
    virshTry(['secret-undefine', secretUuidFor(ref)]);
    sb?.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  it('a node without the key creates nothing and says why', async () => {
    const errors = await converge(driverWith(new VolumeKeyring()), [vm]);
    expect(errors[vm.id]).toMatch(new RegExp(`^VOLUME_KEY_MISSING: this node holds no key for vm-disk enc of workspace ${sb.prefix}-ws`));
    expect(existsSync(driverWith(new VolumeKeyring()).disks.overlayPath(vm.id))).toBe(false);
    expect(virshTry(['domstate', vm.name]).ok).toBe(false);
  });

  it('creates a LUKS qcow2 opened through an ephemeral, private libvirt secret, and boots', async () => {
    const driver = driverWith(keyring());
    expect(await converge(driver, [vm])).toEqual({});
    expect(virshTry(['domstate', vm.name]).out.trim()).toBe('running');
    const overlay = driver.disks.overlayPath(vm.id);
    expect(JSON.parse(sh('qemu-img', ['info', '-U', '--output=json', overlay])) as Record<string, unknown>).toMatchObject({ encrypted: true, format: 'qcow2' });
    const uuid = secretUuidFor(ref);
    const secret = sh('virsh', ['-c', 'qemu:///system', 'secret-dumpxml', uuid]);
    expect(secret).toMatch(/<secret ephemeral='yes' private='yes'>/);
    expect(virshTry(['secret-get-value', uuid]).ok).toBe(false); // private: libvirt never gives it back
    const xml = sh('virsh', ['-c', 'qemu:///system', 'dumpxml', vm.name]);
    expect(xml).toContain(`<secret type='passphrase' uuid='${uuid}'/>`);
    expect(xml).toMatch(/<encryption format='luks'/);
  });

  it('data written into the disk is not in the file on the host', async () => {
    const driver = driverWith(keyring());
    await driver.stopGracefully(vm.name, vm.id);
    const overlay = driver.disks.overlayPath(vm.id);
    const w = qemuIo(overlay, passphraseOf(key), `write -s ${join(work, 'marker')} 1M ${MARKER.length}`);
    expect(w).toMatchObject({ ok: true });
    expect(fileHasMarker(overlay)).toBe(false);
    expect(qemuIo(overlay, passphraseOf(key), `read -v 1M ${MARKER.length}`).out).toContain(MARKER.slice(0, 16));
  });

  it('after a libvirtd restart (secret gone) a node without the key cannot boot it; with the key it boots again', async () => {
    virshTry(['secret-undefine', secretUuidFor(ref)]);
    const errors = await converge(driverWith(new VolumeKeyring()), [vm]);
    expect(errors[vm.id]).toMatch(/^VOLUME_KEY_MISSING: /);
    expect(virshTry(['domstate', vm.name]).out.trim()).toBe('shut off');
    expect(await converge(driverWith(keyring()), [vm])).toEqual({});
    expect(virshTry(['domstate', vm.name]).out.trim()).toBe('running');
  });

  it('deleting destroys the secret, the key and the disk; a copy taken before opens only with that key', async () => {
    const keys = keyring();
    const driver = driverWith(keys);
    const overlay = driver.disks.overlayPath(vm.id);
    const copy = join(work, 'stolen.qcow2');
    copyFileSync(overlay, copy);
    expect(await converge(driver, [])).toEqual({});
    expect(virshTry(['domstate', vm.name]).ok).toBe(false);
    expect(virshTry(['secret-dumpxml', secretUuidFor(ref)]).ok).toBe(false);
    expect(keys.get(ref)).toBeUndefined();
    expect(existsSync(overlay)).toBe(false);
    expect(fileHasMarker(copy)).toBe(false);
    expect(qemuIo(copy, passphraseOf(randomBytes(32)), 'read 1M 16')).toMatchObject({ ok: false, out: expect.stringMatching(/Invalid password/) });
    expect(qemuIo(copy, passphraseOf(key), `read -v 1M ${MARKER.length}`).out).toContain(MARKER.slice(0, 16));
  });
});

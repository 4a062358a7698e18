/**
 * A VM gets a secret through cloud-init only when its template lists it: the libvirt driver (real
 * qemu:///system) writes it as a write_files entry of the NoCloud seed (0600), with the template's own
 * user data kept; the domain XML and its metadata never hold it, and a VM without secrets gets none.
 */
import { readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LibvirtDriver } from '../../agent/drivers/libvirt/libvirt-driver.js';
import { planActions } from '../../agent/plan.js';
import type { DesiredVm } from '../../agent/desired.js';
import { describeIf } from '../support/requires.js';
import { desiredVm, libvirtAvailable, LIBVIRT_HOW, makeSandbox, sh, state, URI, type Sandbox } from '../libvirt/helpers.js';

const VALUE = 'vnc-Hk29-unlikely-anywhere';

describeIf(libvirtAvailable, 'libvirt', LIBVIRT_HOW)('VM secrets through cloud-init (real libvirt)', () => {
  let sb: Sandbox;
  let driver: LibvirtDriver;
  beforeAll(() => {
    sb = makeSandbox('sec');
    driver = new LibvirtDriver({ uri: URI, diskDir: sb.dir, imageDir: sb.dir, shutdownTimeoutMs: 1500, pollMs: 100, defaultNetwork: null });
  });
  afterAll(() => sb?.cleanup());

  const apply = async (vms: DesiredVm[]): Promise<void> => {
    for (const a of planActions(state(sb, vms), await driver.list(`${sb.prefix}-node`)).actions) await driver.apply(a);
  };
  const userData = (vm: DesiredVm): string => sh('isoinfo', ['-J', '-x', '/user-data', '-i', driver.disks.seedPath(vm.id)]);

  it('writes the listed secret into the seed as write_files, and nowhere in the domain', async () => {
    const withSecret = desiredVm(sb, 'desk', { secrets: [{ name: 'vnc-password', source: 'repo', file: '/etc/vnc/passwd', permissions: '0400', digest: 'd'.repeat(32), runtimeName: `fc-secret-x-${'d'.repeat(24)}` }] }, { run: false });
    const plain = desiredVm(sb, 'plain', {}, { run: false });
    await driver.putSecret(`fc-secret-x-${'d'.repeat(24)}`, Buffer.from(VALUE));
    await apply([withSecret, plain]);
    const ud = parse(userData(withSecret)) as { hostname: string; write_files: unknown[] };
    expect(ud.hostname).toBe('test');
    expect(ud.write_files).toEqual([{ path: '/etc/vnc/passwd', permissions: '0400', owner: 'root:root', encoding: 'b64', content: Buffer.from(VALUE).toString('base64') }]);
    expect(statSync(driver.disks.seedPath(withSecret.id)).mode & 0o777).toBe(0o600);
    expect(userData(plain)).toBe('#cloud-config\nhostname: test\n');
    const xml = sh('virsh', ['-c', URI, 'dumpxml', withSecret.name]);
    expect(xml).not.toContain(VALUE);
    expect(xml).not.toContain(Buffer.from(VALUE).toString('base64'));
    expect(readFileSync(driver.disks.seedPath(plain.id)).includes(Buffer.from(VALUE).toString('base64'))).toBe(false);
  });

  it('refuses to create a VM whose secret was not handed over, naming it', async () => {
    const vm = desiredVm(sb, 'lost', { secrets: [{ name: 'gone', source: 'repo', file: '/x', runtimeName: 'fc-secret-x-nothere' }] }, { run: false });
    await expect(apply([vm])).rejects.toThrow(`secret gone of ${vm.id} was not resolved before create`);
  });
});

/**
 * Fast cases against libvirt's built-in test hypervisor (no daemon): each virsh call starts from the
 * node file it is given, so these check listing, ownership filtering, states and XML acceptance.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandWorks, describeIf } from '../../../test/support/requires.js';
import { buildDomainXml } from './domain-xml.js';
import { parseDomainXml } from './domain-parse.js';
import { LibvirtDriver, labelsToMetadata, metadataToLabels } from './libvirt-driver.js';
import { runCommand, type CommandResult, type CommandRunner } from '../../../common/run-command.js';
import { ownershipLabels } from '../../labels.js';

const virshAvailable = commandWorks('virsh', ['-c', 'test:///default', 'version']);

/** A test-driver domain; runstate 1 running, 3 paused, 5 shut off, 6 crashed. */
function testDomain(name: string, runstate: number, meta?: Record<string, string>): string {
  const md = meta === undefined ? '' : `<metadata><f:agent xmlns:f="https://foundry.cloud/xmlns/agent/v1">${Object.entries(meta).map(([k, v]) => `<f:${k}>${v}</f:${k}>`).join('')}</f:agent></metadata>`;
  return `<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'><name>${name}</name>${md}<memory>65536</memory><vcpu>2</vcpu><os><type>hvm</type></os><test:runstate>${runstate}</test:runstate></domain>`;
}

describeIf(virshAvailable, 'virsh (libvirt-clients)', 'apt-get install libvirt-clients')('libvirt driver on the test hypervisor', () => {
  let dir: string;
  let uri: string;
  const mine = (id: string, extra: Record<string, string> = {}): Record<string, string> => ({ ...labelsToMetadata(ownershipLabels(id, { node: 'n1', workspace: 'acme-alice', tenant: 'acme' }, 'h1', 'Retain')), ...extra });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ft-lvtest-'));
    const file = join(dir, 'node.xml');
    writeFileSync(
      file,
      `<node>
        ${testDomain('vm-running', 1, mine('ws.acme-alice.vm.a'))}
        ${testDomain('vm-off', 5, mine('ws.acme-alice.vm.b', { reclaim: 'Delete' }))}
        ${testDomain('vm-paused', 3, mine('ws.acme-alice.vm.c'))}
        ${testDomain('vm-crashed', 6, mine('ws.acme-alice.vm.d'))}
        ${testDomain('other-node', 1, { ...mine('ws.x.vm.e'), node: 'n2' })}
        ${testDomain('not-managed', 1, { ...mine('ws.x.vm.f'), 'managed-by': 'someone-else' })}
        ${testDomain('foreign', 1)}
      </node>`,
    );
    uri = `test://${file}`;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists only the domains whose metadata is ours for this node, with mapped states', async () => {
    const driver = new LibvirtDriver({ uri, diskDir: dir });
    const found = await driver.list('n1');
    expect(found.map((o) => [o.id, o.name, o.state, o.reclaimPolicy, o.specHash])).toEqual([
      ['ws.acme-alice.vm.a', 'vm-running', 'running', 'Retain', 'h1'],
      ['ws.acme-alice.vm.b', 'vm-off', 'stopped', 'Delete', 'h1'],
      ['ws.acme-alice.vm.c', 'vm-paused', 'paused', 'Retain', 'h1'],
      ['ws.acme-alice.vm.d', 'vm-crashed', 'failed', 'Retain', 'h1'],
    ]);
    expect(found[0]).toMatchObject({ kind: 'vm', owner: { node: 'n1', workspace: 'acme-alice', tenant: 'acme' }, facts: { driver: 'libvirt', vcpus: '2', memoryKiB: '65536' } });
    expect(found[0]?.runtimeId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await driver.list('n2')).toHaveLength(1);
    expect(await driver.list('n3')).toEqual([]);
  });

  it('lists nothing on the default test hypervisor (its domain is not ours)', async () => {
    expect(await new LibvirtDriver({ uri: 'test:///default' }).list('n1')).toEqual([]);
  });

  it('probes: available with a version, unavailable with a hint', async () => {
    expect(await new LibvirtDriver({ uri: 'test:///default' }).probe()).toMatchObject({ available: true, message: expect.stringContaining('test:///default') });
    const bad = await new LibvirtDriver({ uri: 'nosuch:///x' }).probe();
    expect(bad.available).toBe(false);
    expect(bad.message).toContain('host-setup.sh');
  });

  it('builds XML that libvirt accepts, with metadata and passthrough surviving dumpxml', async () => {
    const xml = buildDomainXml({
      name: 'built',
      domainType: 'test',
      vcpus: 3,
      memoryBytes: 128 * 1024 * 1024,
      diskPath: '/nonexistent/built.qcow2',
      seedPath: '/nonexistent/built.seed.iso',
      network: 'default',
      hostDevices: ['0000:17:00.0'],
      metadata: mine('ws.acme-alice.vm.built'),
    });
    const file = join(dir, 'built.xml');
    writeFileSync(file, xml);
    // One virsh process runs both commands, so the test driver keeps the definition in between.
    const r = await runCommand('virsh', ['-q', '-c', 'test:///default', `define --file ${file}; dumpxml built`]);
    expect(r.stderr).toBe('');
    const dumped = r.stdout.slice(r.stdout.indexOf('<domain'));
    const parsed = parseDomainXml(dumped);
    expect(parsed).toMatchObject({ name: 'built', vcpus: 3, memoryKiB: 128 * 1024, diskFiles: ['/nonexistent/built.qcow2', '/nonexistent/built.seed.iso'] });
    expect(metadataToLabels(parsed.foundry ?? {})).toEqual(ownershipLabels('ws.acme-alice.vm.built', { node: 'n1', workspace: 'acme-alice', tenant: 'acme' }, 'h1', 'Retain'));
    expect(dumped).toContain("<address domain='0x0000' bus='0x17' slot='0x00' function='0x0'/>");
  });

  it('refuses to act on a domain of the same name that is not ours', async () => {
    const driver = new LibvirtDriver({ uri: `test://${join(dir, 'node.xml')}`, diskDir: dir });
    const observed = { kind: 'vm' as const, id: 'ws.x.vm.zz', name: 'foreign', runtimeId: 'u', owner: { node: 'n1' }, specHash: 'h', state: 'running' as const, reclaimPolicy: 'Delete' as const, facts: {} };
    await expect(driver.apply({ type: 'remove', kind: 'vm', id: observed.id, key: observed.id, reason: 't', desired: undefined, observed, phase: 0 })).rejects.toMatchObject({ code: 'VM_ACTION', resource: 'ws.x.vm.zz', message: expect.stringContaining('not created by the agent') });
  });
});

describe('graceful stop (scripted virsh)', () => {
  /** A runner that plays a guest obeying ACPI: `shutdown` turns it off after two state polls. */
  function obedientGuest(): { run: CommandRunner; calls: string[] } {
    const calls: string[] = [];
    let state = 'running';
    let polls = -1;
    const ok = (stdout = ''): CommandResult => ({ stdout, stderr: '', code: 0, timedOut: false });
    const run: CommandRunner = async (_cmd, args) => {
      const sub = String(args[3]);
      calls.push(sub);
      if (sub === 'domstate') {
        if (polls >= 0 && ++polls >= 2) state = 'shut off';
        return ok(`${state}\n`);
      }
      if (sub === 'shutdown') polls = 0;
      if (sub === 'destroy') state = 'shut off';
      return ok();
    };
    return { run, calls };
  }

  it('waits for the guest to power off and does not destroy it', async () => {
    const { run, calls } = obedientGuest();
    const driver = new LibvirtDriver({ uri: 'test:///default', run, shutdownTimeoutMs: 5000, pollMs: 1 });
    await driver.stopGracefully('g', 'ws.a.vm.g');
    expect(calls).toEqual(['domstate', 'shutdown', 'domstate', 'domstate']);
  });

  it('destroys a guest that ignores the shutdown request once the timeout passes', async () => {
    const calls: string[] = [];
    const run: CommandRunner = async (_cmd, args) => {
      calls.push(String(args[3]));
      return { stdout: calls.includes('destroy') ? 'shut off\n' : 'running\n', stderr: '', code: 0, timedOut: false };
    };
    const driver = new LibvirtDriver({ uri: 'test:///default', run, shutdownTimeoutMs: 30, pollMs: 5 });
    await driver.stopGracefully('g', 'ws.a.vm.g');
    expect(calls[0]).toBe('domstate');
    expect(calls[1]).toBe('shutdown');
    expect(calls.at(-1)).toBe('destroy');
    expect(calls.slice(2, -1).every((c) => c === 'domstate')).toBe(true);
  });

  it('leaves a guest that is already off alone', async () => {
    const calls: string[] = [];
    const run: CommandRunner = async (_cmd, args) => {
      calls.push(String(args[3]));
      return { stdout: 'shut off\n', stderr: '', code: 0, timedOut: false };
    };
    await new LibvirtDriver({ uri: 'test:///default', run }).stopGracefully('g', 'ws.a.vm.g');
    expect(calls).toEqual(['domstate']);
  });
});

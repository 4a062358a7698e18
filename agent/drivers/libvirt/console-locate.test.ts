import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseVncListener } from './domain-parse.js';
import { isLoopback, locateConsole } from './console-locate.js';
import { Virsh } from './virsh.js';
import type { CommandRunner } from '../../../common/run-command.js';

const here = dirname(fileURLToPath(import.meta.url));
const capture = (name: string): string => readFileSync(join(here, 'testdata', name), 'utf8');

describe('parseVncListener on captured virsh dumpxml', () => {
  it('reads the port and listen address of a running domain', () => {
    expect(parseVncListener(capture('dumpxml-running.xml'))).toEqual({ host: '127.0.0.1', port: 5900 });
  });

  it('has no listener while the domain is shut off (port -1) or without vnc graphics', () => {
    expect(parseVncListener(capture('dumpxml-shutoff.xml'))).toBeUndefined();
    expect(parseVncListener(capture('dumpxml-test-default.xml'))).toBeUndefined();
  });

  it('takes the address from a <listen> child, and libvirt\'s default 127.0.0.1 without either', () => {
    expect(parseVncListener("<domain><devices><graphics type='spice' port='5901'/><graphics type='vnc' port='5902'><listen type='address' address='0.0.0.0'/></graphics></devices></domain>")).toEqual({ host: '0.0.0.0', port: 5902 });
    expect(parseVncListener("<domain><devices><graphics type='vnc' port='5903'/></devices></domain>")).toEqual({ host: '127.0.0.1', port: 5903 });
  });
});

describe('locateConsole', () => {
  // virsh answers from captures: list, then dumpxml per domain (the argv the wrapper builds is checked too)
  const runner = (domains: Record<string, string>, seen: string[][] = []): CommandRunner => async (cmd, args) => {
    seen.push([cmd, ...args]);
    const sub = args[3];
    if (sub === 'list') return { code: 0, stdout: `${Object.keys(domains).join('\n')}\n`, stderr: '', timedOut: false };
    const xml = domains[String(args[5])];
    return xml === undefined ? { code: 1, stdout: '', stderr: 'error: failed to get domain', timedOut: false } : { code: 0, stdout: xml, stderr: '', timedOut: false };
  };

  it('finds the running domain of the workspace on this node', async () => {
    const seen: string[][] = [];
    const virsh = new Virsh(runner({ other: capture('dumpxml-test-default.xml'), 'acme-alice-desktop': capture('dumpxml-running.xml') }, seen), 'qemu:///system');
    expect(await locateConsole(virsh, 'gpu-01', 'acme-alice')).toEqual({ domain: 'acme-alice-desktop', host: '127.0.0.1', port: 5900 });
    expect(seen.at(-1)).toEqual(['virsh', '-q', '-c', 'qemu:///system', 'dumpxml', '--', 'acme-alice-desktop']);
  });

  it('says why there is no console: another node, not running, listening beyond the loopback', async () => {
    const running = capture('dumpxml-running.xml');
    await expect(locateConsole(new Virsh(runner({ d: running }), 'qemu:///system'), 'gpu-02', 'acme-alice')).rejects.toThrow('no vm of workspace acme-alice on node gpu-02');
    const off = capture('dumpxml-running.xml').replace(/<domain type='kvm' id='\d+'>/, "<domain type='kvm'>");
    await expect(locateConsole(new Virsh(runner({ d: off }), 'qemu:///system'), 'gpu-01', 'acme-alice')).rejects.toThrow('the vm of workspace acme-alice (domain d) is not running');
    // metadata that names the node and workspace but is not the agent's: not a console of ours
    const foreign = running.replace(/<([a-z]+:)?managed-by>foundry-agent</, '<$1managed-by>someone-else<');
    expect(foreign).not.toBe(running);
    await expect(locateConsole(new Virsh(runner({ d: foreign }), 'qemu:///system'), 'gpu-01', 'acme-alice')).rejects.toThrow('no vm of workspace acme-alice on node gpu-01');
    const open = running.replaceAll("listen='127.0.0.1'", "listen='0.0.0.0'");
    await expect(locateConsole(new Virsh(runner({ d: open }), 'qemu:///system'), 'gpu-01', 'acme-alice')).rejects.toThrow('the vnc console of workspace acme-alice listens on 0.0.0.0, not on the loopback: refused');
  });

  it('accepts only loopback addresses', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].map(isLoopback)).toEqual([true, true, true, true]);
    expect(['0.0.0.0', '10.0.0.5', '::', '128.0.0.1', '127.0.0.1.evil'].map(isLoopback)).toEqual([false, false, false, false, false]);
  });
});

import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDomainXml, parseDomState } from './domain-parse.js';

const here = dirname(fileURLToPath(import.meta.url));
// Captured with `virsh -c qemu:///system dumpxml` on this project's CI machine kind (libvirt 9, QEMU 7.2).
const capture = (name: string): string => readFileSync(join(here, 'testdata', name), 'utf8');

describe('parseDomainXml on captured virsh output', () => {
  it('reads a running domain with our metadata', () => {
    expect(parseDomainXml(capture('dumpxml-running.xml'))).toEqual({
      name: 'acme-alice-desktop',
      uuid: '256e2678-61c2-4a5c-81fd-519cb4126fd5',
      foundry: { id: 'ws.acme-alice.vm.desktop', 'managed-by': 'foundry-agent', node: 'gpu-01', reclaim: 'Retain', 'spec-hash': '3f2a9c1d0b7e4a61', tenant: 'acme', workspace: 'acme-alice' },
      vcpus: 2,
      memoryKiB: 65536,
      diskFiles: ['/tmp/cap/ws.acme-alice.vm.desktop.qcow2'],
      active: true,
    });
  });

  it('reads the same domain shut off (no id attribute)', () => {
    const d = parseDomainXml(capture('dumpxml-shutoff.xml'));
    expect(d.active).toBe(false);
    expect(d.foundry?.id).toBe('ws.acme-alice.vm.desktop');
  });

  it('finds no metadata of ours on a foreign domain', () => {
    const d = parseDomainXml(capture('dumpxml-test-default.xml'));
    expect(d.name).toBe('test');
    expect(d.foundry).toBeUndefined();
  });

  it('finds our metadata by namespace whatever the prefix, and ignores other namespaces', () => {
    const xml = `<domain type='kvm'><name>x</name><uuid>u</uuid><metadata>
      <app:info xmlns:app="https://example.org/app"><app:id>not-ours</app:id></app:info>
      <fc:agent xmlns:fc="https://foundry.cloud/xmlns/agent/v1"><fc:id>ws.a.vm.b</fc:id><fc:node>n1</fc:node></fc:agent>
    </metadata><memory unit='MiB'>32</memory></domain>`;
    const d = parseDomainXml(xml);
    expect(d.foundry).toEqual({ id: 'ws.a.vm.b', node: 'n1' });
    expect(d.memoryKiB).toBe(32 * 1024);
  });

  it('ignores an element that imitates our prefix under another namespace', () => {
    const xml = `<domain><name>x</name><metadata><foundry:agent xmlns:foundry="https://evil.example/"><foundry:id>a</foundry:id></foundry:agent></metadata></domain>`;
    expect(parseDomainXml(xml).foundry).toBeUndefined();
  });

  it('throws on XML that is not a domain', () => {
    expect(() => parseDomainXml('<network><name>x</name></network>')).toThrow(/not a libvirt domain/);
  });
});

describe('parseDomState', () => {
  it.each([
    ['running\n\n', 'running'],
    ['idle', 'running'],
    ['blocked', 'running'],
    ['in shutdown', 'running'],
    ['paused', 'paused'],
    ['pmsuspended', 'paused'],
    ['shut off\n', 'stopped'],
    ['crashed', 'failed'],
    ['no state', 'unknown'],
  ])('%j → %s', (out, state) => {
    expect(parseDomState(out)).toBe(state);
  });
});

import { describe, expect, it } from 'vitest';
import { buildDomainXml, escapeXml, pciAddressAttrs, type DomainXmlInput } from './domain-xml.js';
import { parseDomainXml } from './domain-parse.js';

const base: DomainXmlInput = {
  name: 'acme-alice-desktop',
  domainType: 'kvm',
  vcpus: 4,
  memoryBytes: 8 * 1024 ** 3,
  diskPath: '/var/lib/foundry/ws.acme-alice.vm.desktop.qcow2',
  seedPath: '/var/lib/foundry/ws.acme-alice.vm.desktop.seed.iso',
  network: 'default',
  hostDevices: ['0000:17:00.0'],
  metadata: { 'managed-by': 'foundry-agent', node: 'gpu-01', id: 'ws.acme-alice.vm.desktop', 'spec-hash': 'abc123', reclaim: 'Retain', tenant: 'acme', workspace: 'acme-alice' },
};

describe('buildDomainXml', () => {
  it('builds the whole domain', () => {
    expect(buildDomainXml({ ...base, uuid: '256e2678-61c2-4a5c-81fd-519cb4126fd5', cpuMode: 'host-passthrough' })).toBe(`<domain type='kvm'>
  <name>acme-alice-desktop</name>
  <uuid>256e2678-61c2-4a5c-81fd-519cb4126fd5</uuid>
  <metadata>
    <foundry:agent xmlns:foundry="https://foundry.cloud/xmlns/agent/v1">
      <foundry:id>ws.acme-alice.vm.desktop</foundry:id>
      <foundry:managed-by>foundry-agent</foundry:managed-by>
      <foundry:node>gpu-01</foundry:node>
      <foundry:reclaim>Retain</foundry:reclaim>
      <foundry:spec-hash>abc123</foundry:spec-hash>
      <foundry:tenant>acme</foundry:tenant>
      <foundry:workspace>acme-alice</foundry:workspace>
    </foundry:agent>
  </metadata>
  <memory unit='KiB'>8388608</memory>
  <vcpu placement='static'>4</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <boot dev='hd'/>
  </os>
  <features><acpi/><apic/></features>
  <cpu mode='host-passthrough' check='none'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/foundry/ws.acme-alice.vm.desktop.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/var/lib/foundry/ws.acme-alice.vm.desktop.seed.iso'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
    <interface type='network'>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <source><address domain='0x0000' bus='0x17' slot='0x00' function='0x0'/></source>
    </hostdev>
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>
  </devices>
</domain>
`);
  });

  it('leaves out the disk, seed, interface and hostdevs that are not asked for', () => {
    const xml = buildDomainXml({ ...base, diskPath: undefined, seedPath: undefined, network: undefined, hostDevices: [] });
    expect(xml).not.toContain('<disk');
    expect(xml).not.toContain('<interface');
    expect(xml).not.toContain('<hostdev');
    expect(xml).not.toContain('<uuid>');
    expect(xml).not.toContain('<cpu');
  });

  it('escapes names and values, and round-trips through the parser', () => {
    const xml = buildDomainXml({ ...base, name: "a<b>&'c\"", metadata: { ...base.metadata, tenant: 'x&y<z>' } });
    expect(xml).toContain('<name>a&lt;b&gt;&amp;&apos;c&quot;</name>');
    const parsed = parseDomainXml(xml);
    expect(parsed.name).toBe("a<b>&'c\"");
    expect(parsed.foundry?.tenant).toBe('x&y<z>');
    expect(parsed.diskFiles).toEqual([base.diskPath, base.seedPath]);
    expect(parsed.vcpus).toBe(4);
    expect(parsed.memoryKiB).toBe(8 * 1024 * 1024);
  });

  it('rejects bad metadata keys', () => {
    expect(() => buildDomainXml({ ...base, metadata: { 'Bad Key': 'x' } })).toThrow(/invalid metadata key/);
  });
});

describe('pciAddressAttrs', () => {
  it('accepts the schema form and the nvidia-smi form', () => {
    expect(pciAddressAttrs('0000:17:00.0')).toBe("domain='0x0000' bus='0x17' slot='0x00' function='0x0'");
    expect(pciAddressAttrs('00000000:B3:1F.7')).toBe("domain='0x0000' bus='0xb3' slot='0x1f' function='0x7'");
  });

  it('rejects anything else with a typed error naming the resource', () => {
    expect(() => pciAddressAttrs('17:00.0', 'ws.a.vm.b')).toThrow(expect.objectContaining({ code: 'VM_ACTION', resource: 'ws.a.vm.b' }));
    expect(() => pciAddressAttrs("0000:17:00.0'/><x")).toThrow(/invalid pci address/);
  });
});

describe('escapeXml', () => {
  it('escapes the five special characters', () => {
    expect(escapeXml(`<>&'"`)).toBe('&lt;&gt;&amp;&apos;&quot;');
  });
});

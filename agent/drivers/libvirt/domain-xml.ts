/**
 * Pure builder of the libvirt domain XML for one VM: vcpus, memory, the qcow2 overlay disk, the
 * cloud-init NoCloud seed, a network interface, PCI passthrough, and our ownership in <metadata>.
 */
import { FoundryError } from '../../../common/errors.js';

/** Namespace of our <metadata> element; libvirt keeps one element per namespace. */
export const FOUNDRY_XMLNS = 'https://foundry.cloud/xmlns/agent/v1';
/** Prefix used for our metadata element (libvirt keeps the prefix we give it). */
export const FOUNDRY_PREFIX = 'foundry';

/** Everything the builder needs, resolved (paths absolute, defaults applied). */
export interface DomainXmlInput {
  name: string;
  /** Kept on recreation so the domain keeps its identity. */
  uuid?: string | undefined;
  /** kvm on real nodes; qemu without /dev/kvm; test for libvirt's test driver. */
  domainType: 'kvm' | 'qemu' | 'test';
  vcpus: number;
  memoryBytes: number;
  /** CPU model mode; libvirt's default when undefined (host-passthrough suits bare-metal GPU nodes, not nested KVM). */
  cpuMode?: 'host-passthrough' | 'host-model' | undefined;
  /** The qcow2 overlay (boot disk). */
  diskPath?: string | undefined;
  /** uuid of the libvirt secret that opens a LUKS-encrypted overlay; plain disk when undefined. */
  diskSecretUuid?: string | undefined;
  /** The NoCloud seed ISO (volume label cidata). */
  seedPath?: string | undefined;
  /** libvirt network name; no interface when undefined. */
  network?: string | undefined;
  /** PCI addresses passed through (domain:bus:slot.function). */
  hostDevices: readonly string[];
  /** Ownership marks: metadata element name → value (managed-by, node, id, spec-hash, reclaim, ...). */
  metadata: Readonly<Record<string, string>>;
}

/** Escapes text and attribute values. */
export function escapeXml(value: string): string {
  return value.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] as string);
}

/** Splits a PCI address (0000:17:00.0, or nvidia-smi's 00000000:17:00.0) into libvirt's address attributes. */
export function pciAddressAttrs(address: string, resource?: string): string {
  const m = /^([0-9a-fA-F]{4,8}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/.exec(address);
  if (m === null) throw new FoundryError('VM_ACTION', `invalid pci address "${address}": expected domain:bus:slot.function, e.g. 0000:17:00.0`, { resource, retry: 'terminal' });
  const [, domain, bus, slot, fn] = m as unknown as [string, string, string, string, string];
  return `domain='0x${domain.slice(-4).toLowerCase()}' bus='0x${bus.toLowerCase()}' slot='0x${slot.toLowerCase()}' function='0x${fn}'`;
}

/** The <metadata> child in our namespace; element names must be XML names. */
export function metadataXml(metadata: Readonly<Record<string, string>>): string {
  const p = FOUNDRY_PREFIX;
  const items = Object.keys(metadata)
    .sort()
    .map((key) => {
      if (!/^[a-z][a-z0-9-]*$/.test(key)) throw new FoundryError('VM_ACTION', `invalid metadata key "${key}"`, { retry: 'terminal' });
      return `      <${p}:${key}>${escapeXml(metadata[key] as string)}</${p}:${key}>`;
    });
  return [`    <${p}:agent xmlns:${p}="${FOUNDRY_XMLNS}">`, ...items, `    </${p}:agent>`].join('\n');
}

/** The whole domain XML. */
export function buildDomainXml(input: DomainXmlInput): string {
  const lines = [
    `<domain type='${input.domainType}'>`,
    `  <name>${escapeXml(input.name)}</name>`,
    ...(input.uuid !== undefined ? [`  <uuid>${escapeXml(input.uuid)}</uuid>`] : []),
    '  <metadata>',
    metadataXml(input.metadata),
    '  </metadata>',
    `  <memory unit='KiB'>${Math.ceil(input.memoryBytes / 1024)}</memory>`,
    `  <vcpu placement='static'>${input.vcpus}</vcpu>`,
    '  <os>',
    // q35 gives PCIe root ports, which GPU passthrough wants; the test driver knows no machine types.
    input.domainType === 'test' ? "    <type arch='x86_64'>hvm</type>" : "    <type arch='x86_64' machine='q35'>hvm</type>",
    "    <boot dev='hd'/>",
    '  </os>',
    // ACPI lets `virsh shutdown` ask the guest to power off gracefully.
    '  <features><acpi/><apic/></features>',
    ...(input.cpuMode !== undefined ? [`  <cpu mode='${input.cpuMode}' check='none'/>`] : []),
    '  <on_poweroff>destroy</on_poweroff>',
    '  <on_reboot>restart</on_reboot>',
    '  <on_crash>destroy</on_crash>',
    '  <devices>',
    ...diskXml(input),
    ...(input.network !== undefined
      ? [`    <interface type='network'>`, `      <source network='${escapeXml(input.network)}'/>`, "      <model type='virtio'/>", '    </interface>']
      : []),
    ...input.hostDevices.flatMap((addr) => [
      "    <hostdev mode='subsystem' type='pci' managed='yes'>",
      `      <source><address ${pciAddressAttrs(addr, input.metadata.id)}/></source>`,
      '    </hostdev>',
    ]),
    ...(input.domainType === 'test' ? [] : ["    <serial type='pty'><target port='0'/></serial>", "    <console type='pty'><target type='serial' port='0'/></console>", "    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>"]),
    '  </devices>',
    '</domain>',
    '',
  ];
  return lines.join('\n');
}

function diskXml(input: DomainXmlInput): string[] {
  const out: string[] = [];
  if (input.diskPath !== undefined) {
    const source =
      input.diskSecretUuid === undefined
        ? [`      <source file='${escapeXml(input.diskPath)}'/>`]
        : [`      <source file='${escapeXml(input.diskPath)}'>`, "        <encryption format='luks'>", `          <secret type='passphrase' uuid='${escapeXml(input.diskSecretUuid)}'/>`, '        </encryption>', '      </source>'];
    out.push("    <disk type='file' device='disk'>", "      <driver name='qemu' type='qcow2'/>", ...source, "      <target dev='vda' bus='virtio'/>", '    </disk>');
  }
  if (input.seedPath !== undefined) {
    // SATA, not IDE: q35 has no IDE controller.
    out.push("    <disk type='file' device='cdrom'>", "      <driver name='qemu' type='raw'/>", `      <source file='${escapeXml(input.seedPath)}'/>`, "      <target dev='sda' bus='sata'/>", '      <readonly/>', '    </disk>');
  }
  return out;
}

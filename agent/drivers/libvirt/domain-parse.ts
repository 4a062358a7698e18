/**
 * Pure parsers of virsh output: `virsh dumpxml` (name, uuid, our metadata, disks) and `virsh domstate`.
 * The XML is parsed with fast-xml-parser, never scraped; our metadata is found by its namespace URI,
 * whatever prefix it carries.
 */
import { XMLParser } from 'fast-xml-parser';
import type { ObservedState } from '../../desired.js';
import { FOUNDRY_XMLNS } from './domain-xml.js';

/** What the agent reads back from a domain definition. */
export interface ParsedDomain {
  name: string;
  uuid: string;
  /** Our metadata (element local name → text); undefined when the domain carries none. */
  foundry: Record<string, string> | undefined;
  vcpus: number | undefined;
  memoryKiB: number | undefined;
  /** Source files of disk and cdrom devices. */
  diskFiles: string[];
  /** True when libvirt reports an active domain (dumpxml carries an id). */
  active: boolean;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) => name === 'disk',
});

type Node = Record<string, unknown>;

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (value !== null && typeof value === 'object' && '#text' in value) return String((value as Node)['#text']);
  return undefined;
}

/** Parses `virsh dumpxml` output; throws on XML that is not a domain. */
export function parseDomainXml(xml: string): ParsedDomain {
  const doc = parser.parse(xml) as Node;
  const domain = doc.domain as Node | undefined;
  if (domain === undefined || typeof domain !== 'object') throw new Error('not a libvirt domain xml');
  const devices = (domain.devices ?? {}) as Node;
  const disks = (devices.disk ?? []) as Node[];
  const diskFiles = disks.map((d) => (d.source as Node | undefined)?.['@_file']).filter((f): f is string => typeof f === 'string');
  const vcpuText = text(domain.vcpu);
  const memText = text(domain.memory);
  const memUnit = typeof domain.memory === 'object' ? ((domain.memory as Node)['@_unit'] as string | undefined) : undefined;
  return {
    name: text(domain.name) ?? '',
    uuid: text(domain.uuid) ?? '',
    foundry: findOurMetadata(domain.metadata),
    vcpus: vcpuText === undefined ? undefined : Number(vcpuText),
    memoryKiB: memText === undefined ? undefined : toKiB(Number(memText), memUnit ?? 'KiB'),
    diskFiles,
    active: domain['@_id'] !== undefined && domain['@_id'] !== '-1',
  };
}

function toKiB(value: number, unit: string): number {
  const factor: Record<string, number> = { b: 1 / 1024, bytes: 1 / 1024, KiB: 1, k: 1, MiB: 1024, M: 1024, GiB: 1024 ** 2, G: 1024 ** 2 };
  return Math.round(value * (factor[unit] ?? 1));
}

/** The child of <metadata> whose namespace is ours, as local name → text. */
function findOurMetadata(metadata: unknown): Record<string, string> | undefined {
  if (metadata === null || typeof metadata !== 'object') return undefined;
  for (const [tag, el] of Object.entries(metadata as Node)) {
    if (el === null || typeof el !== 'object') continue;
    const attrs = el as Node;
    const prefix = tag.includes(':') ? tag.slice(0, tag.indexOf(':')) : undefined;
    const ns = prefix === undefined ? attrs['@_xmlns'] : attrs[`@_xmlns:${prefix}`];
    if (ns !== FOUNDRY_XMLNS) continue;
    const out: Record<string, string> = {};
    for (const [childTag, value] of Object.entries(attrs)) {
      if (childTag.startsWith('@_')) continue;
      const local = prefix === undefined ? childTag : childTag.startsWith(`${prefix}:`) ? childTag.slice(prefix.length + 1) : undefined;
      const v = text(value);
      if (local !== undefined && v !== undefined) out[local] = v;
    }
    return out;
  }
  return undefined;
}

/** Maps `virsh domstate` output (first line) to our vocabulary. */
export function parseDomState(output: string): ObservedState {
  const state = output.trim().split('\n')[0]?.trim() ?? '';
  switch (state) {
    case 'running':
    case 'idle':
    case 'blocked':
    case 'in shutdown':
      return 'running';
    case 'paused':
    case 'pmsuspended':
      return 'paused';
    case 'shut off':
      return 'stopped';
    case 'crashed':
      return 'failed';
    default:
      return 'unknown';
  }
}

/** Where a domain's VNC console listens on the node (from `<graphics type='vnc' port=... listen=...>`). */
export interface VncListener {
  host: string;
  port: number;
}

/**
 * The VNC listener of `virsh dumpxml` output of a running domain, or undefined when the domain has no VNC
 * graphics or no port yet (autoport assigns one only while it runs). The listen address comes from the
 * `listen` attribute or its `<listen type='address'>` child; libvirt's default is 127.0.0.1.
 */
export function parseVncListener(xml: string): VncListener | undefined {
  const doc = parser.parse(xml) as Node;
  const devices = ((doc.domain as Node | undefined)?.devices ?? {}) as Node;
  const all = devices.graphics === undefined ? [] : Array.isArray(devices.graphics) ? (devices.graphics as Node[]) : [devices.graphics as Node];
  const vnc = all.find((g) => g['@_type'] === 'vnc');
  if (vnc === undefined) return undefined;
  const port = Number(vnc['@_port']);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  const child = Array.isArray(vnc.listen) ? (vnc.listen as Node[])[0] : (vnc.listen as Node | undefined);
  const host = (vnc['@_listen'] as string | undefined) ?? (child?.['@_address'] as string | undefined) ?? '127.0.0.1';
  return { host, port };
}

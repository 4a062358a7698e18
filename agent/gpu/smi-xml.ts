/**
 * `nvidia-smi -q -x`: the full XML report. Slow to produce and to parse, so the agent reads it only for
 * what the CSV interface lacks (the MIG layout: GPU-instance and compute-instance ids). Covers the v11
 * (`<power_readings>`) and v12 (`<gpu_power_readings>`) layouts.
 */
import { XMLParser } from 'fast-xml-parser';
import { FoundryError } from '../../common/errors.js';
import { cleanValue, normalizePciBusId, parseEnabled, parseInteger, parseNumber } from './values.js';
import type { GpuSample } from './types.js';

/** A MIG device as the XML describes it (no UUID there; `-L` has it). */
export interface XmlMigDevice {
  index: number | null;
  gpuInstanceId: number | null;
  computeInstanceId: number | null;
  memoryTotalMiB: number | null;
  memoryUsedMiB: number | null;
}

/** A process from `<processes>`, with its MIG instance ids when the GPU is partitioned. */
export interface XmlProcess {
  pid: number;
  type: string | null;
  name: string | null;
  usedMemoryMiB: number | null;
  gpuInstanceId: number | null;
  computeInstanceId: number | null;
}

/** One `<gpu>`: its sample values plus inventory details. */
export interface XmlGpu extends GpuSample {
  driverVersion: string | null;
  migEnabled: boolean | null;
  migDevices: XmlMigDevice[];
  processes: XmlProcess[];
}

/** The whole report. */
export interface SmiXmlReport {
  driverVersion: string | null;
  attachedGpus: number | null;
  gpus: XmlGpu[];
}

type Node = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: false,
  isArray: (name) => name === 'gpu' || name === 'mig_device' || name === 'process_info',
});

function obj(v: unknown): Node {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Node) : {};
}
function list(v: unknown): Node[] {
  return Array.isArray(v) ? v.map(obj) : [];
}
function text(v: unknown): string | null {
  return typeof v === 'string' || typeof v === 'number' ? String(v) : null;
}

function parseMigDevice(m: Node): XmlMigDevice {
  const fb = obj(m['fb_memory_usage']);
  return {
    index: parseInteger(text(m['index'])),
    gpuInstanceId: parseInteger(text(m['gpu_instance_id'])),
    computeInstanceId: parseInteger(text(m['compute_instance_id'])),
    memoryTotalMiB: parseNumber(text(fb['total'])),
    memoryUsedMiB: parseNumber(text(fb['used'])),
  };
}

function parseProcess(p: Node): XmlProcess | undefined {
  const pid = parseInteger(text(p['pid']));
  if (pid === null) return undefined;
  return {
    pid,
    type: cleanValue(text(p['type'])),
    name: cleanValue(text(p['process_name'])),
    usedMemoryMiB: parseNumber(text(p['used_memory'])),
    gpuInstanceId: parseInteger(text(p['gpu_instance_id'])),
    computeInstanceId: parseInteger(text(p['compute_instance_id'])),
  };
}

function parseGpu(g: Node, position: number, driverVersion: string | null): XmlGpu {
  const uuid = cleanValue(text(g['uuid']));
  if (uuid === null) throw new FoundryError('NVIDIA_SMI_PARSE', 'unexpected nvidia-smi xml: a gpu has no uuid', { resource: 'nvidia-smi -q -x' });
  const fb = obj(g['fb_memory_usage']);
  const util = obj(g['utilization']);
  const temp = obj(g['temperature']);
  // Driver 535+ moved power into <gpu_power_readings> and renamed power_limit to current_power_limit.
  const power = obj(g['gpu_power_readings'] ?? g['power_readings']);
  const clocks = obj(g['clocks']);
  const mig = obj(g['mig_mode']);
  return {
    uuid,
    // nvidia-smi's index is the enumeration order, which is the order of <gpu> elements (not minor_number).
    index: position,
    model: cleanValue(text(g['product_name'])),
    pciBusId: normalizePciBusId(text(obj(g['pci'])['pci_bus_id']) ?? text(g['@_id'])),
    utilizationGpuPct: parseNumber(text(util['gpu_util'])),
    utilizationMemoryPct: parseNumber(text(util['memory_util'])),
    memoryUsedMiB: parseNumber(text(fb['used'])),
    memoryTotalMiB: parseNumber(text(fb['total'])),
    powerDrawW: parseNumber(text(power['power_draw'])),
    powerLimitW: parseNumber(text(power['current_power_limit'] ?? power['power_limit'])),
    temperatureC: parseNumber(text(temp['gpu_temp'])),
    smClockMHz: parseNumber(text(clocks['sm_clock'])),
    memClockMHz: parseNumber(text(clocks['mem_clock'])),
    driverVersion,
    migEnabled: parseEnabled(text(mig['current_mig'])),
    migDevices: list(obj(g['mig_devices'])['mig_device']).map(parseMigDevice),
    processes: list(obj(g['processes'])['process_info']).map(parseProcess).filter((p): p is XmlProcess => p !== undefined),
  };
}

/** Parses `nvidia-smi -q -x`; throws NVIDIA_SMI_PARSE when the text is not an nvidia_smi_log. */
export function parseSmiXml(xml: string): SmiXmlReport {
  let doc: Node;
  try {
    doc = obj(parser.parse(xml));
  } catch (err) {
    throw new FoundryError('NVIDIA_SMI_PARSE', 'unexpected nvidia-smi xml: not well-formed', { resource: 'nvidia-smi -q -x', cause: err });
  }
  if (!('nvidia_smi_log' in doc)) {
    throw new FoundryError('NVIDIA_SMI_PARSE', 'unexpected nvidia-smi xml: no nvidia_smi_log element', { resource: 'nvidia-smi -q -x' });
  }
  const root = obj(doc['nvidia_smi_log']);
  const driverVersion = cleanValue(text(root['driver_version']));
  return {
    driverVersion,
    attachedGpus: parseInteger(text(root['attached_gpus'])),
    gpus: list(root['gpu']).map((g, i) => parseGpu(g, i, driverVersion)),
  };
}

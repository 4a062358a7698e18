/** `nvidia-smi --query-gpu=... --format=csv,noheader,nounits`: argv builders and pure parsers. */
import { FoundryError } from '../../common/errors.js';
import { parseQueryCsv, type CsvRow } from './csv.js';
import { cleanValue, normalizePciBusId, parseEnabled, parseInteger, parseNumber } from './values.js';
import { classifyHealth, emptyHealthReading, parseCount, parseFlag, splitLostGpus, type GpuHealthReading, type LostGpu } from './health.js';
import type { GpuSample } from './types.js';

/** Fields sampled every poll for utilization, memory, power and clocks. */
export const SAMPLE_FIELDS = [
  'index', 'uuid', 'pci.bus_id', 'utilization.gpu', 'utilization.memory', 'memory.used', 'memory.total',
  'power.draw', 'power.limit', 'temperature.gpu', 'clocks.current.sm', 'clocks.current.memory',
] as const;

/**
 * Health fields sampled with them (agent/gpu/health.ts). The `clocks_throttle_reasons.*` spelling is the
 * one every driver knows (535+ also call them clocks_event_reasons). A driver that does not know one of
 * these fields refuses the whole query: the plugin then drops that field and asks again.
 */
export const HEALTH_FIELDS = [
  'ecc.errors.uncorrected.volatile.total', 'ecc.errors.uncorrected.aggregate.total', 'ecc.errors.corrected.volatile.total',
  'retired_pages.pending', 'remapped_rows.pending', 'remapped_rows.failure',
  'clocks_throttle_reasons.hw_slowdown', 'clocks_throttle_reasons.hw_thermal_slowdown', 'clocks_throttle_reasons.sw_thermal_slowdown',
  'clocks_throttle_reasons.hw_power_brake_slowdown', 'gpu_recovery_action',
] as const;

/** Fields sampled every poll. `name` is last: it is the only free-text field. */
export const STATS_FIELDS = [...SAMPLE_FIELDS, ...HEALTH_FIELDS, 'name'] as const;

/** The stats fields without the health fields a driver refused (`dropped`), `name` still last. */
export function statsFields(dropped: ReadonlySet<string> = new Set()): string[] {
  return STATS_FIELDS.filter((f) => !dropped.has(f));
}

// nvidia-smi's answer (exit 2) to a field it does not know.
const INVALID_FIELD = /Field "([^"]+)" is not a valid field to query/;

/** The field nvidia-smi refused as unknown, when its output says so. */
export function invalidField(output: string): string | undefined {
  return INVALID_FIELD.exec(output)?.[1];
}

/** Fields of the slow inventory. */
export const INVENTORY_FIELDS = ['index', 'uuid', 'pci.bus_id', 'memory.total', 'driver_version', 'mig.mode.current', 'name'] as const;

/** argv for a `--query-gpu` call with the given fields. */
export function queryGpuArgs(fields: readonly string[]): string[] {
  return [`--query-gpu=${fields.join(',')}`, '--format=csv,noheader,nounits'];
}

/** One inventory row (before MIG details from `-q -x` / `-L` are merged in). */
export interface InventoryRow {
  index: number | null;
  uuid: string;
  pciBusId: string | null;
  memoryTotalMiB: number | null;
  driverVersion: string | null;
  migEnabled: boolean | null;
  model: string | null;
}

const RESOURCE = 'nvidia-smi --query-gpu';

function rows(text: string, fields: readonly string[]): CsvRow[] {
  return parseQueryCsv(text, { fields, freeText: 'name', resource: RESOURCE });
}

// A row without a GPU UUID is not a GPU reading: it is garbage, or a "GPU is lost" line.
function uuidOf(row: CsvRow, line: number): string {
  const uuid = cleanValue(row['uuid']);
  if (uuid === null || !/^GPU-[0-9a-fA-F-]+$/.test(uuid)) {
    throw new FoundryError('NVIDIA_SMI_PARSE', `unexpected nvidia-smi csv: row ${line} has no gpu uuid`, { resource: RESOURCE, details: { row: line } });
  }
  return uuid;
}

// A cell that says the GPU cannot be read any more.
const LOST_VALUE = /^\[GPU is lost\]$/i;
const RESET_VALUE = /^\[GPU requires reset\]$/i;

// clocks_throttle_reasons.X as queried, or clocks_event_reasons.X in captures taken with the new name.
function throttle(r: CsvRow, reason: string): boolean | null {
  return parseFlag(r[`clocks_throttle_reasons.${reason}`] ?? r[`clocks_event_reasons.${reason}`]);
}

/** The health reading of one stats row (any capture: missing columns read as null). */
export function healthReadingOf(r: CsvRow): GpuHealthReading {
  const cells = Object.values(r).map((v) => (v ?? '').trim());
  return {
    ...emptyHealthReading(),
    lost: cells.some((v) => LOST_VALUE.test(v)),
    requiresReset: cells.some((v) => RESET_VALUE.test(v)),
    eccUncorrectedVolatile: parseCount(r['ecc.errors.uncorrected.volatile.total']),
    eccUncorrectedAggregate: parseCount(r['ecc.errors.uncorrected.aggregate.total']),
    eccCorrectedVolatile: parseCount(r['ecc.errors.corrected.volatile.total']),
    retiredPagesPending: parseFlag(r['retired_pages.pending']),
    remappedRowsPending: parseFlag(r['remapped_rows.pending']),
    remappedRowsFailure: parseFlag(r['remapped_rows.failure']),
    hwSlowdown: throttle(r, 'hw_slowdown'),
    hwThermalSlowdown: throttle(r, 'hw_thermal_slowdown'),
    swThermalSlowdown: throttle(r, 'sw_thermal_slowdown'),
    hwPowerBrakeSlowdown: throttle(r, 'hw_power_brake_slowdown'),
    recoveryAction: cleanValue(r['gpu_recovery_action']),
  };
}

/** What one stats query said: the GPUs it read, and the GPUs it names as unreachable (by PCI bus id). */
export interface StatsOutput {
  gpus: GpuSample[];
  lost: LostGpu[];
}

/**
 * Parses the stats query. Lines such as "Unable to determine the device handle for GPU0000:3b:00.0: ..." and
 * rows whose uuid reads "[GPU is lost]" become `lost` entries; every other row must have a GPU uuid.
 * `fields`: what was queried (statsFields()), for output without a header.
 */
export function parseStatsOutput(text: string, fields: readonly string[] = STATS_FIELDS): StatsOutput {
  const { rest, lost } = splitLostGpus(text);
  const gpus: GpuSample[] = [];
  rows(rest, fields).forEach((r, i) => {
    const reading = healthReadingOf(r);
    const bus = normalizePciBusId(r['pci.bus_id']);
    if (reading.lost && cleanValue(r['uuid']) === null) {
      if (bus !== null && !lost.some((l) => l.pciBusId === bus)) lost.push({ pciBusId: bus, reason: 'GPU is lost' });
      if (bus !== null) return;
    }
    gpus.push({ ...sampleOf(r, i + 1), health: classifyHealth(reading) });
  });
  return { gpus, lost };
}

/** Parses the stats query (or any capture that has these columns, with or without header and units). */
export function parseStatsCsv(text: string): GpuSample[] {
  return parseStatsOutput(text).gpus;
}

function sampleOf(r: CsvRow, line: number): GpuSample {
  return {
    uuid: uuidOf(r, line),
    index: parseInteger(r['index']),
    model: cleanValue(r['name']),
    pciBusId: normalizePciBusId(r['pci.bus_id']),
    utilizationGpuPct: parseNumber(r['utilization.gpu']),
    utilizationMemoryPct: parseNumber(r['utilization.memory']),
    memoryUsedMiB: parseNumber(r['memory.used']),
    memoryTotalMiB: parseNumber(r['memory.total']),
    powerDrawW: parseNumber(r['power.draw']),
    powerLimitW: parseNumber(r['power.limit']),
    temperatureC: parseNumber(r['temperature.gpu']),
    smClockMHz: parseNumber(r['clocks.current.sm']),
    memClockMHz: parseNumber(r['clocks.current.memory']),
  };
}

/** Parses the inventory query. */
export function parseInventoryCsv(text: string): InventoryRow[] {
  return rows(text, INVENTORY_FIELDS).map((r, i) => ({
    uuid: uuidOf(r, i + 1),
    index: parseInteger(r['index']),
    pciBusId: normalizePciBusId(r['pci.bus_id']),
    memoryTotalMiB: parseNumber(r['memory.total']),
    driverVersion: cleanValue(r['driver_version']),
    migEnabled: parseEnabled(r['mig.mode.current']),
    model: cleanValue(r['name']),
  }));
}

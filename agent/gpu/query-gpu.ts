/** `nvidia-smi --query-gpu=... --format=csv,noheader,nounits`: argv builders and pure parsers. */
import { FoundryError } from '../../common/errors.js';
import { parseQueryCsv, type CsvRow } from './csv.js';
import { cleanValue, normalizePciBusId, parseEnabled, parseInteger, parseNumber } from './values.js';
import type { GpuSample } from './types.js';

/** Fields sampled every poll. `name` is last: it is the only free-text field. */
export const STATS_FIELDS = [
  'index', 'uuid', 'pci.bus_id', 'utilization.gpu', 'utilization.memory', 'memory.used', 'memory.total',
  'power.draw', 'power.limit', 'temperature.gpu', 'clocks.current.sm', 'clocks.current.memory', 'name',
] as const;

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

/** Parses the stats query (or any capture that has these columns, with or without header and units). */
export function parseStatsCsv(text: string): GpuSample[] {
  return rows(text, STATS_FIELDS).map((r, i) => ({
    uuid: uuidOf(r, i + 1),
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
  }));
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

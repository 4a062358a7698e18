/**
 * The body of a protocol `telemetry` message (schemas/protocol/telemetry.schema.json) from one GPU poll and
 * one host sample: the interface the hub link calls. Only the fields the schema allows are copied.
 */
import type { TelemetryMessage } from '../../common/generated/protocol/telemetry.js';
import type { HostMetrics } from '../host/host-metrics.js';
import type { GpuStats } from './types.js';

/** The message body type, as generated from the schema. */
export type TelemetryBody = TelemetryMessage['body'];

/** Who holds a GPU now (workspace and its tenant; tenant null when unknown). */
export interface GpuHolder {
  workspace: string;
  tenant: string | null;
}

// The schema caps the arrays; a node never has more GPUs (or Ceph pools worth a graph) than this.
const MAX_GPUS = 64;
const MAX_POOLS = 64;
const MAX_ERROR = 512;

// Workspace and tenant names are at most 63 characters (DNS labels); a longer one (a hand-labelled container) is dropped, not sent to be refused.
const name = (v: string | null | undefined): string | null => (typeof v === 'string' && v.length > 0 && v.length <= 63 ? v : null);

/** Builds the telemetry body for `node`; `at` is the GPU poll's time (or the host sample's when no GPU poll). */
export function telemetryBody(node: string, gpu: GpuStats | undefined, host: HostMetrics, holders: ReadonlyMap<string, GpuHolder> = new Map()): TelemetryBody {
  const body: TelemetryBody = {
    node,
    at: Math.round(gpu?.at ?? host.at),
    gpus: (gpu?.gpus ?? []).slice(0, MAX_GPUS).map((g) => ({
      uuid: g.uuid,
      utilizationGpuPct: g.utilizationGpuPct,
      utilizationMemoryPct: g.utilizationMemoryPct,
      memoryUsedMiB: g.memoryUsedMiB,
      memoryTotalMiB: g.memoryTotalMiB,
      powerDrawW: g.powerDrawW,
      temperatureC: g.temperatureC,
      model: g.model === null ? null : g.model.slice(0, 128),
      workspace: name(holders.get(g.uuid)?.workspace),
      tenant: name(holders.get(g.uuid)?.tenant),
      ...(g.health !== undefined ? { health: { state: g.health.state, problems: [...g.health.problems] } } : {}),
    })),
    host: { cpuPct: host.cpu.loadPct, memUsedBytes: host.memory.usedBytes, memTotalBytes: host.memory.totalBytes, load1: host.cpu.load1 },
  };
  const s = host.storage;
  if (s !== undefined) {
    body.storage = {
      source: s.source,
      totalBytes: s.totalBytes,
      usedBytes: s.usedBytes,
      availableBytes: s.availableBytes,
      ...(s.pools !== undefined ? { pools: s.pools.slice(0, MAX_POOLS).map((p) => ({ name: p.name.slice(0, 128), storedBytes: p.storedBytes, maxAvailableBytes: p.maxAvailableBytes })) } : {}),
      ...(s.error !== undefined ? { error: s.error.slice(0, MAX_ERROR) } : {}),
    };
  }
  return body;
}

/**
 * The body of a protocol `telemetry` message (schemas/protocol/telemetry.schema.json) from one GPU poll and
 * one host sample: the interface the hub link calls. Only the fields the schema allows are copied.
 */
import type { TelemetryMessage } from '../../common/generated/protocol/telemetry.js';
import type { HostMetrics } from '../host/host-metrics.js';
import type { GpuStats } from './types.js';

/** The message body type, as generated from the schema. */
export type TelemetryBody = TelemetryMessage['body'];

// The schema caps the array; a node never has more GPUs than this.
const MAX_GPUS = 64;

/** Builds the telemetry body for `node`; `at` is the GPU poll's time (or the host sample's when no GPU poll). */
export function telemetryBody(node: string, gpu: GpuStats | undefined, host: HostMetrics): TelemetryBody {
  return {
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
    })),
    host: { cpuPct: host.cpu.loadPct, memUsedBytes: host.memory.usedBytes, memTotalBytes: host.memory.totalBytes, load1: host.cpu.load1 },
  };
}

/**
 * Telemetry is aggregated in memory and written every few seconds: the latest sample per node and
 * per-node per-minute sums. Ten thousand agents sampling every 5 s then cost a few thousand row
 * updates per flush instead of two upserts per sample. Losing a buffer in a crash loses seconds of
 * graphs, never money (telemetry is best-effort by design).
 */
import type { TelemetryMessage } from '../../common/protocol/codec.js';

/** A telemetry sample's body. */
export type TelemetrySample = TelemetryMessage['body'];

/** Sums of one node's samples in one minute (epoch minutes). */
export interface TelemetryRollup {
  node: string;
  minute: number;
  samples: number;
  gpuUtilSum: number;
  gpuUtilSamples: number;
  gpuMemUsedMibSum: number;
  hostCpuSum: number;
  hostCpuSamples: number;
}

function mean(values: Array<number | null | undefined>): number | null {
  const xs = values.filter((v): v is number => typeof v === 'number');
  return xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Accumulates samples until drained. */
export class TelemetryBuffer {
  private latest = new Map<string, TelemetrySample>();
  private rollups = new Map<string, TelemetryRollup>();

  /** Adds one sample. */
  add(s: TelemetrySample): void {
    const prev = this.latest.get(s.node);
    if (prev === undefined || s.at >= prev.at) this.latest.set(s.node, s);
    const minute = Math.floor(s.at / 60_000);
    const key = `${s.node}\u0000${minute}`;
    const r = this.rollups.get(key) ?? { node: s.node, minute, samples: 0, gpuUtilSum: 0, gpuUtilSamples: 0, gpuMemUsedMibSum: 0, hostCpuSum: 0, hostCpuSamples: 0 };
    const util = mean(s.gpus.map((g) => g.utilizationGpuPct));
    r.samples += 1;
    if (util !== null) {
      r.gpuUtilSum += util;
      r.gpuUtilSamples += 1;
    }
    r.gpuMemUsedMibSum += s.gpus.reduce((a, g) => a + (g.memoryUsedMiB ?? 0), 0);
    if (s.host.cpuPct !== null) {
      r.hostCpuSum += s.host.cpuPct;
      r.hostCpuSamples += 1;
    }
    this.rollups.set(key, r);
  }

  /** True when nothing is buffered. */
  get empty(): boolean {
    return this.latest.size === 0;
  }

  /** Takes everything buffered. */
  drain(): { latest: TelemetrySample[]; rollups: TelemetryRollup[] } {
    const out = { latest: [...this.latest.values()], rollups: [...this.rollups.values()] };
    this.latest = new Map();
    this.rollups = new Map();
    return out;
  }
}

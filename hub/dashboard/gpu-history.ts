/**
 * Recent per-GPU samples for the Nodes page's sparklines (utilization, memory, power, temperature), kept
 * in memory for the last hour: the store keeps only per-node minute rollups, and a sparkline of the last
 * hour is worth nothing after a restart anyway.
 */

/** One sample of one GPU. */
export interface GpuPoint { at: number; util: number | null; memMiB: number | null; powerW: number | null; tempC: number | null }

/** Telemetry as the history reads it. */
export interface TelemetrySample { node: string; at: number; gpus: Array<{ uuid: string; utilizationGpuPct: number | null; memoryUsedMiB: number | null; powerDrawW?: number | null; temperatureC?: number | null }> }

/** A ring of recent samples per node and GPU. */
export class GpuHistory {
  private readonly byGpu = new Map<string, GpuPoint[]>();
  private readonly lastAt = new Map<string, number>();

  constructor(
    private readonly keepMs = 3600_000,
    private readonly maxPoints = 240,
  ) {}

  /** Adds a sample unless it is not newer than the node's last one; true when added. */
  add(s: TelemetrySample): boolean {
    if ((this.lastAt.get(s.node) ?? -1) >= s.at) return false;
    this.lastAt.set(s.node, s.at);
    for (const g of s.gpus) {
      const key = `${s.node}/${g.uuid}`;
      const points = this.byGpu.get(key) ?? [];
      points.push({ at: s.at, util: g.utilizationGpuPct, memMiB: g.memoryUsedMiB, powerW: g.powerDrawW ?? null, tempC: g.temperatureC ?? null });
      const cut = points.findIndex((p) => s.at - p.at < this.keepMs);
      const kept = cut < 0 ? [] : points.slice(Math.max(cut, points.length - this.maxPoints));
      this.byGpu.set(key, kept);
    }
    return true;
  }

  /** The samples of one GPU of a node, oldest first. */
  points(node: string, uuid: string): GpuPoint[] {
    return this.byGpu.get(`${node}/${uuid}`) ?? [];
  }
}

/**
 * Per-GPU Prometheus gauges from agents' telemetry: utilization, memory used/total, power and temperature,
 * labelled node, gpu_uuid, model, workspace, tenant (empty string when none). A reading the agent sent as
 * null has no series (never 0 or NaN); a GPU whose labels change (its workspace left) loses its old
 * series; a node's series go when it disconnects or sends nothing for `staleMs`. Ingest only keeps the
 * sample (about 50 us per 8-GPU sample when the gauges were set on ingest; now a map write); the gauges are
 * filled when scraped.
 */
import { Gauge, type Registry } from 'prom-client';
import type { TelemetryMessage } from '../common/protocol/codec.js';

type Sample = TelemetryMessage['body'];
type GpuReading = Sample['gpus'][number];

/** Label names of every per-GPU series. */
export const GPU_LABELS = ['node', 'gpu_uuid', 'model', 'workspace', 'tenant'] as const;

// The protocol caps a sample at 64 GPUs; this guards the label cardinality even if that cap moves.
const MAX_GPUS_PER_NODE = 64;
const MIB = 1024 * 1024;
const mib = (v: number | null | undefined): number | null => (typeof v === 'number' ? v * MIB : null);

/** The gauges and what each reads from a GPU's reading. */
const GAUGES: Array<{ name: string; help: string; read: (g: GpuReading) => number | null | undefined }> = [
  { name: 'foundry_gpu_utilization_percent', help: 'GPU utilization (percent, nvidia-smi utilization.gpu), from agent telemetry.', read: (g) => g.utilizationGpuPct },
  { name: 'foundry_gpu_memory_used_bytes', help: 'GPU memory used in bytes (nvidia-smi MiB x 1048576), from agent telemetry.', read: (g) => mib(g.memoryUsedMiB) },
  { name: 'foundry_gpu_memory_total_bytes', help: 'GPU memory total in bytes (nvidia-smi MiB x 1048576), from agent telemetry.', read: (g) => mib(g.memoryTotalMiB) },
  { name: 'foundry_gpu_power_watts', help: 'GPU power draw in watts, from agent telemetry.', read: (g) => g.powerDrawW },
  { name: 'foundry_gpu_temperature_celsius', help: 'GPU temperature in degrees Celsius, from agent telemetry.', read: (g) => g.temperatureC },
];

/**
 * Per-GPU gauges of the connected nodes' latest telemetry. A sample is only kept on ingest (a map write);
 * the gauges are rebuilt from the kept samples when scraped, so a series exists exactly while its node's
 * latest sample has it: relabelled GPUs, nulls, departed nodes and stale ones leave nothing behind.
 */
export class GpuMetrics {
  /** node → its latest sample and when it arrived. */
  private readonly nodes = new Map<string, { at: number; sample: Sample }>();

  constructor(registry: Registry, private readonly o: { staleMs?: number; now?: () => number } = {}) {
    for (const def of GAUGES) {
      const gauge: Gauge<(typeof GPU_LABELS)[number]> = new Gauge({
        name: def.name, help: def.help, labelNames: [...GPU_LABELS], registers: [registry],
        collect: () => this.fill(gauge, def.read),
      });
    }
  }

  /** Keeps one telemetry sample of a node (its previous one is replaced). */
  observe(sample: Sample): void {
    this.nodes.set(sample.node, { at: (this.o.now ?? Date.now)(), sample });
  }

  /** Forgets `node` (it disconnected): its series are gone from the next scrape on. */
  removeNode(node: string): void {
    this.nodes.delete(node);
  }

  /** Forgets nodes that sent nothing for staleMs (default 120 s). */
  sweep(): void {
    const before = (this.o.now ?? Date.now)() - (this.o.staleMs ?? 120_000);
    for (const [node, n] of this.nodes) if (n.at < before) this.nodes.delete(node);
  }

  /** Rebuilds one gauge from the kept samples. */
  private fill(gauge: Gauge<(typeof GPU_LABELS)[number]>, read: (g: GpuReading) => number | null | undefined): void {
    this.sweep();
    gauge.reset();
    for (const { sample } of this.nodes.values()) {
      const seen = new Set<string>();
      for (const g of sample.gpus) {
        if (seen.has(g.uuid) || seen.size >= MAX_GPUS_PER_NODE) continue;
        seen.add(g.uuid);
        const v = read(g);
        if (typeof v === 'number' && Number.isFinite(v)) gauge.set({ node: sample.node, gpu_uuid: g.uuid, model: g.model ?? '', workspace: g.workspace ?? '', tenant: g.tenant ?? '' }, v);
      }
    }
  }
}

/**
 * Per-GPU Prometheus gauges from agents' telemetry: utilization, memory used/total, power and temperature,
 * labelled node, gpu_uuid, model, workspace, tenant (empty string when none). A reading the agent sent as
 * null has no series (never 0 or NaN); a GPU whose labels change (its workspace left) loses its old
 * series; a node's series go when it disconnects or sends nothing for `staleMs`.
 */
import { Gauge, type Registry } from 'prom-client';
import type { TelemetryMessage } from '../common/protocol/codec.js';

type Sample = TelemetryMessage['body'];
type GpuReading = Sample['gpus'][number];

/** Label names of every per-GPU series. */
export const GPU_LABELS = ['node', 'gpu_uuid', 'model', 'workspace', 'tenant'] as const;
type Labels = Record<(typeof GPU_LABELS)[number], string>;

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

/** Per-GPU gauges kept in step with the latest telemetry of each connected node. */
export class GpuMetrics {
  private readonly gauges: Gauge<(typeof GPU_LABELS)[number]>[];
  /** node → (gpu uuid → labels of its series) and when the node last sent. */
  private readonly nodes = new Map<string, { at: number; gpus: Map<string, Labels> }>();

  constructor(registry: Registry, private readonly o: { staleMs?: number; now?: () => number } = {}) {
    const sweep = (): void => this.sweep();
    this.gauges = GAUGES.map((g, i) => new Gauge({
      name: g.name, help: g.help, labelNames: [...GPU_LABELS], registers: [registry],
      // Stale series are dropped when scraped (once, before the first gauge is collected).
      ...(i === 0 ? { collect: sweep } : {}),
    }));
  }

  /** Applies one telemetry sample of a node: sets its GPUs' series, removes those of GPUs gone or relabelled. */
  observe(sample: Sample): void {
    const prev = this.nodes.get(sample.node)?.gpus ?? new Map<string, Labels>();
    const next = new Map<string, Labels>();
    for (const g of sample.gpus) {
      if (next.has(g.uuid) || next.size >= MAX_GPUS_PER_NODE) continue;
      const labels: Labels = { node: sample.node, gpu_uuid: g.uuid, model: g.model ?? '', workspace: g.workspace ?? '', tenant: g.tenant ?? '' };
      next.set(g.uuid, labels);
      GAUGES.forEach((def, i) => {
        const v = def.read(g);
        const gauge = this.gauges[i];
        if (gauge === undefined) return;
        if (typeof v === 'number' && Number.isFinite(v)) gauge.set(labels, v);
        else gauge.remove(labels);
      });
    }
    for (const [uuid, old] of prev) {
      const now = next.get(uuid);
      if (now === undefined || !sameLabels(now, old)) this.removeSeries(old);
    }
    this.nodes.set(sample.node, { at: (this.o.now ?? Date.now)(), gpus: next });
  }

  /** Removes every series of `node` (it disconnected). */
  removeNode(node: string): void {
    this.nodes.get(node)?.gpus.forEach((labels) => this.removeSeries(labels));
    this.nodes.delete(node);
  }

  /** Removes the series of nodes that sent nothing for staleMs (default 120 s). */
  sweep(): void {
    const before = (this.o.now ?? Date.now)() - (this.o.staleMs ?? 120_000);
    for (const [node, n] of this.nodes) if (n.at < before) this.removeNode(node);
  }

  private removeSeries(labels: Labels): void {
    this.gauges.forEach((g) => g.remove(labels));
  }
}

function sameLabels(a: Labels, b: Labels): boolean {
  return GPU_LABELS.every((k) => a[k] === b[k]);
}

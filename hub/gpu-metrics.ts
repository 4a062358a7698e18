/**
 * Per-GPU Prometheus gauges from agents' telemetry: utilization, memory used/total, power and temperature,
 * labelled node, gpu_uuid, model, workspace, tenant (empty string when none). A reading the agent sent as
 * null has no series (never 0 or NaN); a GPU whose labels change (its workspace left) loses its old
 * series; a node's series go when it disconnects or sends nothing for `staleMs`. Ingest only keeps the
 * sample (about 50 us per 8-GPU sample when the gauges were set on ingest; now a map write); the gauges are
 * filled when scraped. GPU health (foundry_gpu_healthy, foundry_gpu_health_problem) follows the same rules,
 * and is kept even for a reading dropped as implausible (a sick GPU may well report nonsense).
 */
import { Gauge, type Counter, type Registry } from 'prom-client';
import type { TelemetryMessage } from '../common/protocol/codec.js';

type Sample = TelemetryMessage['body'];
type GpuReading = Sample['gpus'][number];

/** Label names of every per-GPU series. */
export const GPU_LABELS = ['node', 'gpu_uuid', 'model', 'workspace', 'tenant'] as const;
/** Label names of foundry_gpu_health_problem (one series per current problem). */
export const PROBLEM_LABELS = ['node', 'gpu_uuid', 'problem'] as const;

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

/** Plausible ranges: readings outside them are dropped (counted) before they reach /metrics. */
export const TELEMETRY_RANGES = { utilizationPct: [0, 100], memoryMiB: [0, 16 * 1024 * 1024], powerW: [0, 5000], temperatureC: [-40, 150] } as const;

const within = (v: number | null | undefined, [lo, hi]: readonly [number, number]): boolean => v === null || v === undefined || (Number.isFinite(v) && v >= lo && v <= hi);

/**
 * Range-checks one GPU reading: the reason to drop it, or undefined when every value is plausible
 * (utilization 0-100, memory used <= total, power and temperature within TELEMETRY_RANGES).
 */
export function implausible(g: GpuReading): string | undefined {
  if (!within(g.utilizationGpuPct, TELEMETRY_RANGES.utilizationPct) || !within(g.utilizationMemoryPct, TELEMETRY_RANGES.utilizationPct)) return 'utilization-range';
  if (!within(g.memoryUsedMiB, TELEMETRY_RANGES.memoryMiB) || !within(g.memoryTotalMiB, TELEMETRY_RANGES.memoryMiB)) return 'memory-range';
  if (typeof g.memoryUsedMiB === 'number' && typeof g.memoryTotalMiB === 'number' && g.memoryUsedMiB > g.memoryTotalMiB) return 'memory-over-total';
  if (!within(g.powerDrawW, TELEMETRY_RANGES.powerW)) return 'power-range';
  if (!within(g.temperatureC, TELEMETRY_RANGES.temperatureC)) return 'temperature-range';
  return undefined;
}

/**
 * Per-GPU gauges of the connected nodes' latest telemetry. A sample is only kept on ingest (a map write);
 * the gauges are rebuilt from the kept samples when scraped, so a series exists exactly while its node's
 * latest sample has it: relabelled GPUs, nulls, departed nodes and stale ones leave nothing behind.
 */
export class GpuMetrics {
  /** node → its latest sample (plausible readings) and the health of every declared GPU in it, and when it arrived. */
  private readonly nodes = new Map<string, { at: number; sample: Sample; health: GpuReading[] }>();
  /** node → the GPU UUIDs it declared (hello inventory); a node without a declaration is not checked. */
  private readonly declared = new Map<string, ReadonlySet<string>>();

  constructor(registry: Registry, private readonly o: { staleMs?: number; now?: () => number; dropped?: Counter<'reason'> } = {}) {
    for (const def of GAUGES) {
      const gauge: Gauge<(typeof GPU_LABELS)[number]> = new Gauge({
        name: def.name, help: def.help, labelNames: [...GPU_LABELS], registers: [registry],
        collect: () => this.fill(gauge, def.read),
      });
    }
    const healthy: Gauge<(typeof GPU_LABELS)[number]> = new Gauge({
      name: 'foundry_gpu_healthy', help: 'GPU health from agent telemetry: 1 healthy or degraded (placeable), 0 unhealthy (not offered to new workspaces); no series when the agent sends no health.',
      labelNames: [...GPU_LABELS], registers: [registry], collect: () => this.fillHealth(healthy),
    });
    const problem: Gauge<(typeof PROBLEM_LABELS)[number]> = new Gauge({
      name: 'foundry_gpu_health_problem', help: 'One series = 1 per current GPU health problem (problem: ecc_uncorrected, row_remap_pending, fallen_off_bus, thermal_throttle, ...), from agent telemetry.',
      labelNames: [...PROBLEM_LABELS], registers: [registry], collect: () => this.fillProblems(problem),
    });
  }

  /** Records the GPUs a node declares (its hello inventory): telemetry of other UUIDs is dropped. Empty: unchecked. */
  declare(node: string, uuids: Iterable<string>): void {
    const set = new Set(uuids);
    if (set.size === 0) this.declared.delete(node);
    else this.declared.set(node, set);
  }

  /**
   * Keeps one telemetry sample of a node (its previous one is replaced), without the readings that are
   * out of range or of a GPU the node did not declare: each dropped reading is counted by reason.
   */
  observe(sample: Sample): void {
    const declared = this.declared.get(sample.node);
    const health = sample.gpus.filter((g) => g.health !== undefined && (declared === undefined || declared.has(g.uuid)));
    const gpus = sample.gpus.filter((g) => {
      const why = declared !== undefined && !declared.has(g.uuid) ? 'undeclared-gpu' : implausible(g);
      if (why !== undefined) this.o.dropped?.inc({ reason: why });
      return why === undefined;
    });
    this.nodes.set(sample.node, { at: (this.o.now ?? Date.now)(), sample: gpus.length === sample.gpus.length ? sample : { ...sample, gpus }, health });
  }

  /** Forgets `node` (it disconnected): its series are gone from the next scrape on. */
  removeNode(node: string): void {
    this.nodes.delete(node);
    this.declared.delete(node);
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

  /** The health of each GPU (first of a UUID, at most MAX_GPUS_PER_NODE) of the kept samples. */
  private *healthReadings(): Generator<{ node: string; g: GpuReading & { health: NonNullable<GpuReading['health']> } }> {
    for (const { sample, health } of this.nodes.values()) {
      const seen = new Set<string>();
      for (const g of health) {
        if (g.health === undefined || seen.has(g.uuid) || seen.size >= MAX_GPUS_PER_NODE) continue;
        seen.add(g.uuid);
        yield { node: sample.node, g: { ...g, health: g.health } };
      }
    }
  }

  private fillHealth(gauge: Gauge<(typeof GPU_LABELS)[number]>): void {
    this.sweep();
    gauge.reset();
    for (const { node, g } of this.healthReadings()) {
      gauge.set({ node, gpu_uuid: g.uuid, model: g.model ?? '', workspace: g.workspace ?? '', tenant: g.tenant ?? '' }, g.health.state === 'unhealthy' ? 0 : 1);
    }
  }

  private fillProblems(gauge: Gauge<(typeof PROBLEM_LABELS)[number]>): void {
    this.sweep();
    gauge.reset();
    for (const { node, g } of this.healthReadings()) for (const problem of new Set(g.health.problems)) gauge.set({ node, gpu_uuid: g.uuid, problem }, 1);
  }
}

/**
 * The agent's own view of GPU health for its `/metrics` endpoint: `foundry_agent_gpu_healthy{gpu_uuid, model}`
 * (docs/gpu-health.md). Pure, so the agent metrics registry only has to set what this returns after each poll.
 */
import type { GpuStats } from './types.js';

/** Name of the agent gauge (the metrics contract of issue 24). */
export const AGENT_GPU_HEALTHY = 'foundry_agent_gpu_healthy';

/** One series of the gauge. */
export interface GpuHealthSeries {
  labels: { gpu_uuid: string; model: string };
  /** 1 healthy or degraded (placeable), 0 unhealthy. */
  value: 0 | 1;
}

/** The series for one poll: one per GPU that has a health reading (first of a UUID); none without GPUs. */
export function gpuHealthGauge(stats: GpuStats | undefined): GpuHealthSeries[] {
  const seen = new Set<string>();
  const out: GpuHealthSeries[] = [];
  for (const g of stats?.gpus ?? []) {
    if (g.health === undefined || seen.has(g.uuid)) continue;
    seen.add(g.uuid);
    out.push({ labels: { gpu_uuid: g.uuid, model: g.model ?? '' }, value: g.health.state === 'unhealthy' ? 0 : 1 });
  }
  return out;
}

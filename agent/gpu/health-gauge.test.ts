import { describe, expect, it } from 'vitest';
import { capture } from '../../test/gpu/captures.js';
import { gpuHealthGauge } from './health-gauge.js';
import { parseStatsCsv } from './query-gpu.js';

describe('gpuHealthGauge', () => {
  it('gives 1 for healthy and degraded, 0 for unhealthy, nothing for GPUs without health or polls without GPUs', () => {
    const [h100] = parseStatsCsv(capture('h100-80gb-hbm3_load_query-gpu-all-fields.csv'));
    const gpus = [
      h100!,
      { ...h100!, uuid: 'GPU-2', health: { state: 'unhealthy' as const, problems: ['fallen_off_bus' as const] } },
      { ...h100!, uuid: 'GPU-3', model: null, health: { state: 'degraded' as const, problems: ['thermal_throttle' as const] } },
      { ...h100!, uuid: 'GPU-4', health: undefined },
    ];
    expect(gpuHealthGauge({ at: 1, available: true, gpus, processes: [] })).toEqual([
      { labels: { gpu_uuid: h100!.uuid, model: 'NVIDIA H100 80GB HBM3' }, value: 1 },
      { labels: { gpu_uuid: 'GPU-2', model: 'NVIDIA H100 80GB HBM3' }, value: 0 },
      { labels: { gpu_uuid: 'GPU-3', model: '' }, value: 1 },
    ]);
    expect(gpuHealthGauge(undefined)).toEqual([]);
  });
});

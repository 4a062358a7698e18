import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { Counter } from 'prom-client';
import { GpuMetrics, implausible } from './gpu-metrics.js';
import type { TelemetryMessage } from '../common/protocol/codec.js';

type Gpu = TelemetryMessage['body']['gpus'][number];
const host = { cpuPct: null, memUsedBytes: null, memTotalBytes: null };
const gpu = (uuid: string, extra: Partial<Gpu> = {}): Gpu => ({ uuid, utilizationGpuPct: 50, memoryUsedMiB: 1024, memoryTotalMiB: 81559, powerDrawW: 300.5, temperatureC: 60, model: 'H100', workspace: 'alice', tenant: 'acme', ...extra });

/** The foundry_gpu_* sample lines of the exposition, without HELP/TYPE. */
async function series(registry: Registry): Promise<string[]> {
  return (await registry.metrics()).split('\n').filter((l) => l.startsWith('foundry_gpu_'));
}

function setup() {
  let now = 1_000_000;
  const registry = new Registry();
  const m = new GpuMetrics(registry, { staleMs: 60_000, now: () => now });
  return { registry, m, advance: (ms: number) => { now += ms; } };
}

const L = (node: string, uuid: string, model: string, ws: string, tenant: string) => `{node="${node}",gpu_uuid="${uuid}",model="${model}",workspace="${ws}",tenant="${tenant}"}`;

describe('GpuMetrics', () => {
  it('exports every reading with exact labels, memory in bytes, and no series for nulls', async () => {
    const { registry, m } = setup();
    m.observe({ node: 'gpu-01', at: 1, host, gpus: [gpu('GPU-a'), gpu('GPU-b', { utilizationGpuPct: null, powerDrawW: null, temperatureC: null, model: null, workspace: null, tenant: null })] });
    const a = L('gpu-01', 'GPU-a', 'H100', 'alice', 'acme');
    const b = L('gpu-01', 'GPU-b', '', '', '');
    expect(await series(registry)).toEqual([
      `foundry_gpu_utilization_percent${a} 50`,
      `foundry_gpu_memory_used_bytes${a} 1073741824`,
      `foundry_gpu_memory_used_bytes${b} 1073741824`,
      `foundry_gpu_memory_total_bytes${a} 85520809984`,
      `foundry_gpu_memory_total_bytes${b} 85520809984`,
      `foundry_gpu_power_watts${a} 300.5`,
      `foundry_gpu_temperature_celsius${a} 60`,
    ]);
  });

  it('accepts samples of older agents (no model, workspace or tenant)', async () => {
    const { registry, m } = setup();
    m.observe({ node: 'gpu-01', at: 1, host, gpus: [{ uuid: 'GPU-a', utilizationGpuPct: 5, memoryUsedMiB: null, memoryTotalMiB: null }] });
    expect(await series(registry)).toEqual([`foundry_gpu_utilization_percent${L('gpu-01', 'GPU-a', '', '', '')} 5`]);
  });

  it('drops a reading that turns null, and the old series when the workspace changes or the GPU is gone', async () => {
    const { registry, m } = setup();
    m.observe({ node: 'gpu-01', at: 1, host, gpus: [gpu('GPU-a'), gpu('GPU-b', { workspace: 'bob', tenant: 'globex' })] });
    m.observe({ node: 'gpu-01', at: 2, host, gpus: [gpu('GPU-a', { workspace: null, tenant: null, utilizationGpuPct: 0, memoryUsedMiB: 0, powerDrawW: null, temperatureC: 31 })] });
    const a = L('gpu-01', 'GPU-a', 'H100', '', '');
    expect(await series(registry)).toEqual([
      `foundry_gpu_utilization_percent${a} 0`,
      `foundry_gpu_memory_used_bytes${a} 0`,
      `foundry_gpu_memory_total_bytes${a} 85520809984`,
      `foundry_gpu_temperature_celsius${a} 31`,
    ]);
    m.observe({ node: 'gpu-01', at: 3, host, gpus: [gpu('GPU-a', { temperatureC: null })] });
    expect((await series(registry)).filter((l) => l.startsWith('foundry_gpu_temperature_celsius'))).toEqual([]);
  });

  it('removes a node on disconnect and after the staleness window, leaving the others', async () => {
    const { registry, m, advance } = setup();
    m.observe({ node: 'gpu-01', at: 1, host, gpus: [gpu('GPU-a', { memoryUsedMiB: null, memoryTotalMiB: null, powerDrawW: null, temperatureC: null })] });
    m.observe({ node: 'gpu-02', at: 1, host, gpus: [gpu('GPU-b', { memoryUsedMiB: null, memoryTotalMiB: null, powerDrawW: null, temperatureC: null })] });
    m.observe({ node: 'gpu-03', at: 1, host, gpus: [gpu('GPU-c', { memoryUsedMiB: null, memoryTotalMiB: null, powerDrawW: null, temperatureC: null })] });
    m.removeNode('gpu-01');
    advance(30_000);
    m.observe({ node: 'gpu-03', at: 2, host, gpus: [gpu('GPU-c', { memoryUsedMiB: null, memoryTotalMiB: null, powerDrawW: null, temperatureC: null })] });
    advance(45_000);
    // gpu-02 last sent 75 s ago (stale), gpu-03 45 s ago.
    expect(await series(registry)).toEqual([`foundry_gpu_utilization_percent${L('gpu-03', 'GPU-c', 'H100', 'alice', 'acme')} 50`]);
  });

  it('keeps one series per GPU UUID and at most 64 GPUs per node', async () => {
    const { registry, m } = setup();
    const many = Array.from({ length: 70 }, (_, i) => gpu(`GPU-${String(i).padStart(2, '0')}`, { memoryUsedMiB: null, memoryTotalMiB: null, powerDrawW: null, temperatureC: null }));
    m.observe({ node: 'gpu-01', at: 1, host, gpus: [gpu('GPU-00', { utilizationGpuPct: 1, memoryUsedMiB: null, memoryTotalMiB: null, powerDrawW: null, temperatureC: null }), ...many] });
    const lines = await series(registry);
    expect(lines).toHaveLength(64);
    expect(lines[0]).toBe(`foundry_gpu_utilization_percent${L('gpu-01', 'GPU-00', 'H100', 'alice', 'acme')} 1`);
  });
});

describe('GPU health gauges', () => {
  const health = async (registry: Registry): Promise<string[]> => (await series(registry)).filter((l) => l.startsWith('foundry_gpu_health'));
  const bare = { utilizationGpuPct: null, memoryUsedMiB: null, memoryTotalMiB: null, powerDrawW: null, temperatureC: null };

  it('exports 1 for healthy and degraded, 0 for unhealthy, and one problem series per current problem', async () => {
    const { registry, m } = setup();
    m.observe({ node: 'gpu-01', at: 1, host, gpus: [
      gpu('GPU-a', { ...bare, health: { state: 'healthy', problems: [] } }),
      gpu('GPU-b', { ...bare, workspace: null, tenant: null, health: { state: 'unhealthy', problems: ['ecc_uncorrected', 'row_remap_pending'] } }),
      gpu('GPU-c', { ...bare, health: { state: 'degraded', problems: ['thermal_throttle'] } }),
      gpu('GPU-d', { ...bare }), // an older agent: no health, no series
    ] });
    expect(await health(registry)).toEqual([
      `foundry_gpu_healthy${L('gpu-01', 'GPU-a', 'H100', 'alice', 'acme')} 1`,
      `foundry_gpu_healthy${L('gpu-01', 'GPU-b', 'H100', '', '')} 0`,
      `foundry_gpu_healthy${L('gpu-01', 'GPU-c', 'H100', 'alice', 'acme')} 1`,
      'foundry_gpu_health_problem{node="gpu-01",gpu_uuid="GPU-b",problem="ecc_uncorrected"} 1',
      'foundry_gpu_health_problem{node="gpu-01",gpu_uuid="GPU-b",problem="row_remap_pending"} 1',
      'foundry_gpu_health_problem{node="gpu-01",gpu_uuid="GPU-c",problem="thermal_throttle"} 1',
    ]);
  });

  it('drops a problem once it is gone, and every series on disconnect and after the staleness window', async () => {
    const { registry, m, advance } = setup();
    m.observe({ node: 'gpu-01', at: 1, host, gpus: [gpu('GPU-a', { ...bare, health: { state: 'unhealthy', problems: ['fallen_off_bus'] } })] });
    m.observe({ node: 'gpu-02', at: 1, host, gpus: [gpu('GPU-b', { ...bare, health: { state: 'unhealthy', problems: ['ecc_uncorrected'] } })] });
    m.observe({ node: 'gpu-01', at: 2, host, gpus: [gpu('GPU-a', { ...bare, health: { state: 'healthy', problems: [] } })] });
    expect(await health(registry)).toEqual([
      `foundry_gpu_healthy${L('gpu-01', 'GPU-a', 'H100', 'alice', 'acme')} 1`,
      `foundry_gpu_healthy${L('gpu-02', 'GPU-b', 'H100', 'alice', 'acme')} 0`,
      'foundry_gpu_health_problem{node="gpu-02",gpu_uuid="GPU-b",problem="ecc_uncorrected"} 1',
    ]);
    m.removeNode('gpu-01');
    advance(61_000);
    expect(await health(registry)).toEqual([]);
  });

  it('keeps the health of a reading dropped as implausible, never that of an undeclared GPU', async () => {
    const registry = new Registry();
    const m = new GpuMetrics(registry);
    m.declare('gpu-01', ['GPU-a']);
    m.observe({ node: 'gpu-01', at: 1, host, gpus: [gpu('GPU-a', { temperatureC: 900, health: { state: 'unhealthy', problems: ['reset_required'] } }), gpu('GPU-x', { health: { state: 'unhealthy', problems: ['ecc_uncorrected'] } })] });
    expect(await health(registry)).toEqual([
      `foundry_gpu_healthy${L('gpu-01', 'GPU-a', 'H100', 'alice', 'acme')} 0`,
      'foundry_gpu_health_problem{node="gpu-01",gpu_uuid="GPU-a",problem="reset_required"} 1',
    ]);
  });
});

describe('telemetry range checks', () => {
  it('says why a reading is implausible', () => {
    expect(implausible(gpu('a'))).toBeUndefined();
    expect(implausible(gpu('a', { utilizationGpuPct: null, memoryUsedMiB: null, powerDrawW: null, temperatureC: null }))).toBeUndefined();
    expect(implausible(gpu('a', { utilizationGpuPct: 100.5 }))).toBe('utilization-range');
    expect(implausible(gpu('a', { utilizationGpuPct: -1 }))).toBe('utilization-range');
    expect(implausible(gpu('a', { utilizationMemoryPct: 101 }))).toBe('utilization-range');
    expect(implausible(gpu('a', { memoryUsedMiB: 81560 }))).toBe('memory-over-total');
    expect(implausible(gpu('a', { memoryTotalMiB: 2 ** 40 }))).toBe('memory-range');
    expect(implausible(gpu('a', { powerDrawW: 1e6 }))).toBe('power-range');
    expect(implausible(gpu('a', { temperatureC: 500 }))).toBe('temperature-range');
  });

  it('drops bad readings and undeclared GPUs before the gauges, counting each by reason', async () => {
    const registry = new Registry();
    const dropped = new Counter<'reason'>({ name: 'dropped_total', help: 'h', labelNames: ['reason'], registers: [registry] });
    const m = new GpuMetrics(registry, { dropped });
    m.declare('gpu-01', ['GPU-a', 'GPU-b']);
    m.observe({ node: 'gpu-01', at: 1, host, gpus: [gpu('GPU-a'), gpu('GPU-b', { utilizationGpuPct: 900 }), gpu('GPU-x')] });
    const lines = await series(registry);
    expect(lines.some((l) => l.includes('GPU-a'))).toBe(true);
    expect(lines.some((l) => l.includes('GPU-b') || l.includes('GPU-x'))).toBe(false);
    expect((await registry.getSingleMetricAsString('dropped_total')).split('\n').filter((l) => l.startsWith('dropped_total'))).toEqual(['dropped_total{reason="utilization-range"} 1', 'dropped_total{reason="undeclared-gpu"} 1']);
    // a node that declared no GPU is not checked for UUIDs (older agents, or an inventory nvidia-smi could not read)
    m.observe({ node: 'gpu-02', at: 1, host, gpus: [gpu('GPU-y')] });
    expect((await series(registry)).some((l) => l.includes('GPU-y'))).toBe(true);
  });
});

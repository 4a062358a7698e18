import { describe, expect, it, vi } from 'vitest';
import { TelemetryLoop } from './telemetry-loop.js';
import { UsageEmitter } from './usage/usage-emitter.js';
import { FoundryError } from '../common/errors.js';
import type { HostMetrics } from './host/host-metrics.js';
import type { GpuStats } from './gpu/types.js';
import type { TelemetryBody } from './gpu/telemetry-body.js';
import type { UsageRecord } from './usage/usage-types.js';

const host: HostMetrics = { at: 0, cpu: { cores: 2, loadPct: 1, load1: 0, load5: 0, load15: 0 }, memory: { totalBytes: 10, usedBytes: 5, availableBytes: 5 }, filesystems: [], network: [], uptimeSec: 1 };
const sample = (at: number): GpuStats => ({
  at, available: true, processes: [],
  gpus: [{ uuid: 'GPU-a', index: 0, model: 'Tesla T4', pciBusId: '0000:00:1e.0', utilizationGpuPct: 30, utilizationMemoryPct: 1, memoryUsedMiB: 1, memoryTotalMiB: 15360, powerDrawW: 26.78, powerLimitW: 70, temperatureC: 40, smClockMHz: 585, memClockMHz: 5000 }],
});

describe('TelemetryLoop', () => {
  it('sends telemetry every tick and feeds usage; a failing GPU poll costs only its readings', async () => {
    let now = 0;
    let failGpu = false;
    const bodies: TelemetryBody[] = [];
    const records: UsageRecord[] = [];
    const usage = new UsageEmitter({ node: 'gpu-01', clock: () => now, sink: (r) => { records.push(r as UsageRecord); } });
    const loop = new TelemetryLoop({
      node: 'gpu-01',
      gpu: { stats: async () => { if (failGpu) throw new FoundryError('NVIDIA_SMI_TIMEOUT', 'nvidia-smi did not answer'); return sample(now); } },
      host: async () => ({ ...host, at: now }),
      send: (b) => { bodies.push(b); },
      usage,
      allocations: () => [{ workspace: 'alice', tenant: 'acme', gpus: [{ uuid: 'GPU-a', model: 'Tesla T4' }], running: true }],
    });
    const results = [];
    for (now = 0; now <= 30_000; now += 5_000) {
      failGpu = now === 15_000;
      results.push(await loop.tickOnce());
    }
    expect(bodies).toHaveLength(7);
    expect(bodies[3]).toEqual({ node: 'gpu-01', at: 15_000, gpus: [], host: { cpuPct: 1, memUsedBytes: 5, memTotalBytes: 10, load1: 0 } });
    expect(results[3]?.gpuError).toBe('NVIDIA_SMI_TIMEOUT: nvidia-smi did not answer');
    expect(bodies[4]?.gpus[0]).toMatchObject({ powerDrawW: 26.78, model: 'Tesla T4', workspace: 'alice', tenant: 'acme' });
    // Allocation was observed every tick, so the GPU poll failure does not interrupt billing.
    expect(records.map((r) => [r.from, r.to, r.measuredSamples])).toEqual([[0, 10_000, 2], [10_000, 20_000, 1], [20_000, 30_000, 2]]);
  });

  it('labels undeclared GPUs with processes through attribution, and sends null labels when it fails', async () => {
    const stats: GpuStats = { ...sample(0), gpus: [...sample(0).gpus, { ...sample(0).gpus[0]!, uuid: 'GPU-b' }, { ...sample(0).gpus[0]!, uuid: 'GPU-c' }], processes: [{ pid: 7, gpuUuid: 'GPU-b', name: 'python', usedMemoryMiB: 10 }, { pid: 8, gpuUuid: 'GPU-a', name: 'python', usedMemoryMiB: 10 }] };
    const asked: string[][] = [];
    let fail = false;
    const bodies: TelemetryBody[] = [];
    const loop = new TelemetryLoop({
      node: 'gpu-01', host: async () => host, gpu: { stats: async () => stats },
      send: (b) => { bodies.push(b); },
      allocations: () => [{ workspace: 'alice', tenant: 'acme', gpus: [{ uuid: 'GPU-a', model: 'Tesla T4' }], running: true }],
      attribute: async (_s, unheld) => {
        asked.push([...unheld]);
        if (fail) throw new Error('podman gone');
        return new Map([['GPU-b', { workspace: 'bob', tenant: null }], ['GPU-a', { workspace: 'intruder', tenant: null }]]);
      },
    });
    await loop.tickOnce();
    fail = true;
    await loop.tickOnce();
    expect(asked).toEqual([['GPU-b'], ['GPU-b']]);
    expect(bodies.map((b) => b.gpus.map((g) => [g.uuid, g.workspace, g.tenant]))).toEqual([
      [['GPU-a', 'alice', 'acme'], ['GPU-b', 'bob', null], ['GPU-c', null, null]],
      [['GPU-a', 'alice', 'acme'], ['GPU-b', null, null], ['GPU-c', null, null]],
    ]);
  });

  it('ticks never overlap: a tick while one runs joins it', async () => {
    let release: () => void = () => undefined;
    let polls = 0;
    const loop = new TelemetryLoop({
      node: 'n', send: () => undefined, host: async () => host,
      gpu: { stats: () => { polls++; return new Promise<GpuStats>((r) => { release = () => r(sample(0)); }); } },
    });
    const a = loop.tickOnce();
    const b = loop.tickOnce();
    expect(a).toBe(b);
    await new Promise((r) => setTimeout(r, 10));
    release();
    await a;
    expect(polls).toBe(1);
  });

  it('reads its interval again before each tick (the Cluster telemetryInterval of the last good revision)', async () => {
    vi.useFakeTimers();
    try {
      const setting: { interval: number | undefined } = { interval: undefined };
      let ticks = 0;
      const loop = new TelemetryLoop({ node: 'gpu-01', gpu: { stats: async () => sample(0) }, host: async () => host, send: () => { ticks++; }, intervalMs: () => setting.interval });
      expect(loop.currentIntervalMs()).toBe(5_000);
      loop.start();
      await vi.advanceTimersByTimeAsync(5_000);
      expect(ticks).toBe(1);
      setting.interval = 2_000;
      await vi.advanceTimersByTimeAsync(5_000); // the tick already scheduled fires at 10 s, then every 2 s
      expect(ticks).toBe(2);
      await vi.advanceTimersByTimeAsync(4_000);
      expect(ticks).toBe(4);
      loop.stop();
      await vi.advanceTimersByTimeAsync(10_000);
      expect(ticks).toBe(4);
    } finally {
      vi.useRealTimers();
    }
  });
});

import { describe, it, expect } from 'vitest';
import { TelemetryBuffer } from './telemetry-buffer.js';

const sample = (node: string, at: number, utils: Array<number | null>, cpu: number | null) => ({
  node,
  at,
  gpus: utils.map((u, i) => ({ uuid: `g${i}`, utilizationGpuPct: u, memoryUsedMiB: 100, memoryTotalMiB: 200 })),
  host: { cpuPct: cpu, memUsedBytes: 1, memTotalBytes: 2 },
});

describe('TelemetryBuffer', () => {
  it('keeps the newest sample per node and sums per node-minute, skipping unknown readings', () => {
    const b = new TelemetryBuffer();
    b.add(sample('a', 61_000, [10, 30], 5));
    b.add(sample('a', 62_000, [null], null));
    b.add(sample('a', 60_500, [50], 7)); // late sample: counted, but not the latest
    b.add(sample('b', 125_000, [], 1));
    const out = b.drain();
    expect(out.latest.map((s) => [s.node, s.at])).toEqual([['a', 62_000], ['b', 125_000]]);
    expect(out.rollups).toEqual([
      { node: 'a', minute: 1, samples: 3, gpuUtilSum: 70, gpuUtilSamples: 2, gpuMemUsedMibSum: 400, hostCpuSum: 12, hostCpuSamples: 2 },
      { node: 'b', minute: 2, samples: 1, gpuUtilSum: 0, gpuUtilSamples: 0, gpuMemUsedMibSum: 0, hostCpuSum: 1, hostCpuSamples: 1 },
    ]);
    expect(b.empty).toBe(true);
  });
});

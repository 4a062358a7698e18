import { describe, expect, it } from 'vitest';
import { GpuHistory } from './gpu-history.js';

const s = (at: number, util: number) => ({ node: 'n1', at, gpus: [{ uuid: 'G1', utilizationGpuPct: util, memoryUsedMiB: 10, powerDrawW: 70, temperatureC: 40 }] });

describe('GpuHistory', () => {
  it('keeps newer samples per node and GPU, drops old ones and caps the count', () => {
    const h = new GpuHistory(1000, 3);
    expect(h.add(s(0, 1))).toBe(true);
    expect(h.add(s(0, 9))).toBe(false);
    h.add(s(400, 2));
    h.add(s(800, 3));
    h.add(s(900, 4));
    expect(h.points('n1', 'G1').map((p) => p.util)).toEqual([2, 3, 4]);
    h.add(s(2000, 5));
    expect(h.points('n1', 'G1')).toEqual([{ at: 2000, util: 5, memMiB: 10, powerW: 70, tempC: 40 }]);
    expect(h.points('n1', 'G2')).toEqual([]);
  });
});

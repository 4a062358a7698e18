import { describe, expect, it } from 'vitest';
import { coalesce } from './coalesce.js';
import type { UsageInterval } from './usage.js';

const t = (iso: string): number => Date.parse(iso);
const rec = (from: string, to: string, more: Partial<UsageInterval> = {}): UsageInterval =>
  ({ workspace: 'alice', tenant: 'acme', node: 'gpu-01', gpuUuid: 'GPU-aaaaaaaa', gpuModel: 'NVIDIA L40S', from: t(from), to: t(to), ...more });

describe('coalesce', () => {
  it('joins back-to-back and overlapping 10 s records into one interval, utilization time-weighted', () => {
    const out = coalesce([
      rec('2026-03-02T10:00:00Z', '2026-03-02T10:00:10Z', { utilization: 20, receivedAt: 1 }),
      rec('2026-03-02T10:00:10Z', '2026-03-02T10:00:20Z', { utilization: 40, receivedAt: 3 }),
      rec('2026-03-02T10:00:15Z', '2026-03-02T10:00:30Z', { receivedAt: 2 }),
      rec('2026-03-02T10:00:40Z', '2026-03-02T10:00:50Z'),
      rec('2026-03-02T10:00:00Z', '2026-03-02T10:00:10Z', { gpuUuid: 'GPU-bbbbbbbb' }),
    ]);
    expect(out).toEqual([
      rec('2026-03-02T10:00:00Z', '2026-03-02T10:00:30Z', { utilization: 30, receivedAt: 3 }),
      rec('2026-03-02T10:00:40Z', '2026-03-02T10:00:50Z'),
      rec('2026-03-02T10:00:00Z', '2026-03-02T10:00:10Z', { gpuUuid: 'GPU-bbbbbbbb' }),
    ]);
  });

  it('never grows a run past the month end, nor merges late with on-time records', () => {
    expect(coalesce([rec('2026-01-31T23:59:50Z', '2026-02-01T00:00:00Z'), rec('2026-02-01T00:00:00Z', '2026-02-01T00:00:10Z')])).toHaveLength(2);
    const closed = new Map([['2026-01', t('2026-02-02T00:00:00Z')]]);
    const onTime = rec('2026-01-20T10:00:00Z', '2026-01-20T10:00:10Z', { receivedAt: t('2026-01-20T10:00:11Z') });
    const late = rec('2026-01-20T10:00:10Z', '2026-01-20T10:00:20Z', { receivedAt: t('2026-02-03T00:00:00Z') });
    expect(coalesce([onTime, late], closed)).toEqual([onTime, late]);
  });
});

describe('intervalFromRecord', () => {
  it('maps an agent record and refuses one without a model', async () => {
    const { intervalFromRecord } = await import('./usage.js');
    const r = { kind: 'gpu-allocation', version: 1, key: 'k', node: 'gpu-01', workspace: 'alice', tenant: 'acme', gpuUuid: 'GPU-aaaaaaaa', gpuModel: 'NVIDIA L40S',
      from: 1000, to: 11000, fromIso: '', toIso: '', seconds: 10, measuredAvgUtilizationPct: 12.5, measuredSamples: 2 };
    expect(intervalFromRecord(r, 20000)).toEqual({ workspace: 'alice', tenant: 'acme', node: 'gpu-01', gpuUuid: 'GPU-aaaaaaaa', gpuModel: 'NVIDIA L40S', from: 1000, to: 11000, utilization: 12.5, receivedAt: 20000 });
    expect(() => intervalFromRecord({ ...r, gpuModel: null })).toThrow('usage of workspace alice on GPU-aaaaaaaa (node gpu-01): gpu model unknown, cannot be priced');
  });
});

import { describe, expect, it } from 'vitest';
import type { LineHead } from './invoice-line.js';
import { LineAccumulator, lineKey } from './invoice-line.js';

const GPU: LineHead = {
  tenant: 'acme', month: '2026-03', workspace: 'ws', resource: 'gpu', gpuModel: 'H100', priceList: 'default', currency: 'EUR',
  periodFrom: '2026-01-01T00:00:00Z', late: false, unitPriceMicros: 2_490_000n,
};

describe('LineAccumulator', () => {
  it('adds time per key, keeps the first head, and rounds the amount once per line', () => {
    const lines = new LineAccumulator();
    const k = lineKey('gpu', GPU, 0);
    lines.add(k, 1800, 1n, () => GPU);
    lines.add(k, 1801, 1n, () => ({ ...GPU, unitPriceMicros: 1n }));
    const [line, ...rest] = lines.finish();
    expect(rest).toEqual([]);
    // 3601 s at 2.49/h = 2.490691...: rounded once to 2.49, not per addition
    expect(line).toMatchObject({ seconds: 3601, gpuHours: '1.000278', quantity: '1.000278', unit: 'GPU-hour', unitPrice: '2.49', amountMinor: 249n, amount: '2.49' });
    expect(line!.utilization).toBeUndefined();
  });

  it('prices a resource by quantity × seconds in its base unit', () => {
    const lines = new LineAccumulator();
    const head: LineHead = { ...GPU, resource: 'vcpu', gpuModel: '', unitPriceMicros: 40_000n };
    lines.add(lineKey('vcpu', head, 0), 3600, 2500n, () => head); // 2.5 vCPUs for an hour at 0.04
    expect(lines.finish()).toEqual([expect.objectContaining({ seconds: 3600, gpuHours: '0.000000', quantity: '2.500000', unit: 'vCPU-hour', amount: '0.10' })]);
  });

  it('bills an unpriced line 0 with its reason, and weights utilization by time', () => {
    const lines = new LineAccumulator();
    const head: LineHead = { ...GPU, unitPriceMicros: 0n, unpriced: 'no price for gpu model "H100"' };
    const k = lineKey('gpu', head, -1);
    lines.add(k, 100, 1n, () => head);
    const open = lines.get(k)!;
    open.utilSum += 90 * 30 + 10 * 70;
    open.utilSec += 100;
    expect(lines.finish()[0]).toMatchObject({ amountMinor: 0n, amount: '0.00', unitPrice: '', unpriced: 'no price for gpu model "H100"', utilization: 34 });
  });

  it('keeps lines of other resources, periods and late time apart', () => {
    const keys = new Set([lineKey('gpu', GPU, 0), lineKey('gpu', GPU, 1), lineKey('gpu', { ...GPU, late: true }, 0), lineKey('vcpu', GPU, 0), lineKey('gpu', { ...GPU, gpuModel: 'L40S' }, 0)]);
    expect(keys.size).toBe(5);
  });
});

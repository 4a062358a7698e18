import { describe, expect, it } from 'vitest';
import type { PriceList } from '../../common/infra/model.js';
import { rate } from './rate.js';
import type { UsageInterval } from './usage.js';

const H100 = 'NVIDIA H100 80GB HBM3';
const L40 = 'NVIDIA L40S';
const t = (iso: string): number => Date.parse(iso);

function prices(periods: PriceList['spec']['periods'], extra: Partial<PriceList['spec']> = {}, name = 'default'): PriceList {
  return { apiVersion: 'foundry.cloud/v1', kind: 'PriceList', metadata: { name }, spec: { currency: 'EUR', periods, ...extra } };
}
const flat = prices([{ effectiveFrom: '2026-01-01T00:00:00Z', gpuHour: { [H100]: '2.49', [L40]: '1.00' } }]);

function iv(from: string, to: string, more: Partial<UsageInterval> = {}): UsageInterval {
  return { workspace: 'alice', tenant: 'acme', node: 'gpu-01', gpuUuid: 'GPU-aaaaaaaa', gpuModel: H100, from: t(from), to: t(to), ...more };
}
const brief = (lines: ReturnType<typeof rate>) => lines.map((l) => [l.month, l.workspace, l.gpuModel, l.periodFrom, l.late, l.seconds, l.amount]);

describe('rate', () => {
  it('bills one hour of one GPU at the hourly price', () => {
    const [line] = rate([iv('2026-03-02T10:00:00Z', '2026-03-02T11:00:00Z')], [flat]);
    expect(line).toMatchObject({ tenant: 'acme', month: '2026-03', seconds: 3600, gpuHours: '1.000000', unitPrice: '2.49', amountMinor: 249n, amount: '2.49', late: false });
  });

  it('never double-bills duplicated, reordered or overlapping deliveries', () => {
    const a = iv('2026-03-02T10:00:00Z', '2026-03-02T10:00:10Z');
    const b = iv('2026-03-02T10:00:10Z', '2026-03-02T10:00:20Z');
    const overlap = iv('2026-03-02T10:00:05Z', '2026-03-02T10:00:15Z');
    expect(brief(rate([b, a, a, overlap, b], [flat]))).toEqual([['2026-03', 'alice', H100, '2026-01-01T00:00:00Z', false, 20, '0.01']]);
  });

  it('groups a workspace\'s GPUs of one model into one line and models apart', () => {
    const lines = rate([
      iv('2026-03-02T10:00:00Z', '2026-03-02T11:00:00Z'),
      iv('2026-03-02T10:00:00Z', '2026-03-02T11:00:00Z', { gpuUuid: 'GPU-bbbbbbbb' }),
      iv('2026-03-02T10:00:00Z', '2026-03-02T12:00:00Z', { gpuUuid: 'GPU-cccccccc', gpuModel: L40 }),
    ], [flat]);
    expect(brief(lines)).toEqual([
      ['2026-03', 'alice', H100, '2026-01-01T00:00:00Z', false, 7200, '4.98'],
      ['2026-03', 'alice', L40, '2026-01-01T00:00:00Z', false, 7200, '2.00'],
    ]);
  });

  it('splits a line at a price change at the exact second', () => {
    const list = prices([
      { effectiveFrom: '2026-01-01T00:00:00Z', gpuHour: { [H100]: '2.00' } },
      { effectiveFrom: '2026-03-15T12:00:00Z', gpuHour: { [H100]: '3.00' } },
    ]);
    expect(brief(rate([iv('2026-03-15T11:30:00Z', '2026-03-15T12:30:00Z')], [list]))).toEqual([
      ['2026-03', 'alice', H100, '2026-01-01T00:00:00Z', false, 1800, '1.00'],
      ['2026-03', 'alice', H100, '2026-03-15T12:00:00Z', false, 1800, '1.50'],
    ]);
    expect(rate([iv('2026-03-15T11:59:59Z', '2026-03-15T12:00:01Z')], [list]).map((l) => l.seconds)).toEqual([1, 1]);
  });

  it('shows period starts as normalized UTC instants', () => {
    const list = prices([{ effectiveFrom: '2026-01-01T01:00:00+01:00', gpuHour: { [H100]: '1.00' } }]);
    expect(rate([iv('2026-03-02T10:00:00Z', '2026-03-02T11:00:00Z')], [list])[0]?.periodFrom).toBe('2026-01-01T00:00:00Z');
    // an invalid list never stops the invoice: its GPU time shows unpriced, with the reason
    expect(rate([iv('2026-03-02T10:00:00Z', '2026-03-02T11:00:00Z')], [prices([{ effectiveFrom: '2026-01-01T00:00:00.5Z', gpuHour: { [H100]: '1.00' } }])]).map((l) => [l.seconds, l.amount, l.unpriced]))
      .toEqual([[3600, '0.00', 'price list default: effectiveFrom "2026-01-01T00:00:00.5Z" must be an instant at a whole second']]);
  });

  it('truncates instants to whole seconds at both ends', () => {
    const [line] = rate([{ ...iv('2026-03-02T10:00:00Z', '2026-03-02T10:00:00Z'), from: t('2026-03-02T10:00:00Z') + 1500, to: t('2026-03-02T10:00:00Z') + 3999 }], [flat]);
    expect(line?.seconds).toBe(2);
  });

  it('rounds each session up to a per-minute increment, extra time in the period where it ends', () => {
    const list = prices([
      { effectiveFrom: '2026-01-01T00:00:00Z', gpuHour: { [H100]: '2.00' } },
      { effectiveFrom: '2026-03-15T12:00:00Z', gpuHour: { [H100]: '3.00' } },
    ], { increment: '1m' });
    expect(rate([iv('2026-03-02T10:00:00Z', '2026-03-02T10:01:01Z')], [list]).map((l) => l.seconds)).toEqual([120]);
    // two sessions (gap of 1 s) are rounded separately
    expect(rate([iv('2026-03-02T10:00:00Z', '2026-03-02T10:00:30Z'), iv('2026-03-02T10:00:31Z', '2026-03-02T10:01:00Z')], [list]).map((l) => l.seconds)).toEqual([120]);
    // touching intervals are one session
    expect(rate([iv('2026-03-02T10:00:00Z', '2026-03-02T10:00:30Z'), iv('2026-03-02T10:00:30Z', '2026-03-02T10:01:00Z')], [list]).map((l) => l.seconds)).toEqual([60]);
    expect(brief(rate([iv('2026-03-15T11:59:50Z', '2026-03-15T12:00:20Z')], [list]))).toEqual([
      ['2026-03', 'alice', H100, '2026-01-01T00:00:00Z', false, 10, '0.01'],
      ['2026-03', 'alice', H100, '2026-03-15T12:00:00Z', false, 50, '0.04'],
    ]);
  });

  it('raises each session to the minimum charge', () => {
    const list = prices([{ effectiveFrom: '2026-01-01T00:00:00Z', gpuHour: { [H100]: '3.60' } }], { minimumCharge: '5m' });
    expect(brief(rate([iv('2026-03-02T10:00:00Z', '2026-03-02T10:00:10Z'), iv('2026-03-02T11:00:00Z', '2026-03-02T11:10:00Z')], [list]))).toEqual([
      ['2026-03', 'alice', H100, '2026-01-01T00:00:00Z', false, 900, '0.90'],
    ]);
  });

  it('cuts at the UTC month end: Jan 31 → Feb 1, minimum charged once, in the month the session started', () => {
    const list = prices([{ effectiveFrom: '2026-01-01T00:00:00Z', gpuHour: { [H100]: '3.60' } }], { minimumCharge: '1h' });
    expect(brief(rate([iv('2026-01-31T23:30:00Z', '2026-02-01T00:30:00Z')], [list]))).toEqual([
      ['2026-01', 'alice', H100, '2026-01-01T00:00:00Z', false, 3600, '3.60'],
      ['2026-02', 'alice', H100, '2026-01-01T00:00:00Z', false, 1800, '1.80'],
    ]);
  });

  it('counts Feb 29 in a leap year (2028) and uses UTC, not local time', () => {
    const list = prices([{ effectiveFrom: '2028-01-01T00:00:00Z', gpuHour: { [H100]: '1.00' } }]);
    const lines = rate([{ ...iv('2028-02-28T23:00:00Z', '2028-03-01T01:00:00Z'), from: t('2028-02-29T00:00:00+01:00'), to: t('2028-03-01T01:00:00Z') }], [list]);
    expect(brief(lines)).toEqual([
      ['2028-02', 'alice', H100, '2028-01-01T00:00:00Z', false, 25 * 3600, '25.00'],
      ['2028-03', 'alice', H100, '2028-01-01T00:00:00Z', false, 3600, '1.00'],
    ]);
  });

  it('never bills a model without a price as free, nor refuses the invoice: an unpriced line with the quantity, amount 0 and the reason', () => {
    const a100 = rate([iv('2026-03-02T10:00:00Z', '2026-03-02T11:00:00Z', { gpuModel: 'NVIDIA A100-SXM4-40GB' }), iv('2026-03-02T10:00:00Z', '2026-03-02T11:00:00Z', { gpuUuid: 'GPU-2' })], [flat]);
    expect(a100.map((l) => [l.gpuModel, l.seconds, l.gpuHours, l.unitPrice, l.amountMinor, l.amount, l.unpriced])).toEqual([
      ['NVIDIA A100-SXM4-40GB', 3600, '1.000000', '', 0n, '0.00', 'no price for gpu model "NVIDIA A100-SXM4-40GB" in price list default, period from 2026-01-01T00:00:00Z'],
      [H100, 3600, '1.000000', '2.49', 249n, '2.49', undefined],
    ]);
    // before the first period: that part unpriced, the rest billed
    expect(rate([iv('2025-12-31T23:59:00Z', '2026-01-01T00:01:00Z')], [flat]).map((l) => [l.month, l.periodFrom, l.seconds, l.amount, l.unpriced])).toEqual([
      ['2025-12', '', 60, '0.00', 'no price before the first period of price list default (2026-01-01T00:00:00Z)'],
      ['2026-01', '2026-01-01T00:00:00Z', 60, '0.04', undefined],
    ]);
    const dropped = prices([
      { effectiveFrom: '2026-01-01T00:00:00Z', gpuHour: { [H100]: '2.00' } },
      { effectiveFrom: '2026-02-01T00:00:00Z', gpuHour: { [L40]: '1.00' } },
    ]);
    expect(rate([iv('2026-01-31T23:00:00Z', '2026-02-01T01:00:00Z')], [dropped]).map((l) => [l.month, l.periodFrom, l.amount, l.unpriced !== undefined])).toEqual([
      ['2026-01', '2026-01-01T00:00:00Z', '2.00', false],
      ['2026-02', '2026-02-01T00:00:00Z', '0.00', true],
    ]);
    // a model nobody knows (''): unpriced, never guessed
    expect(rate([iv('2026-03-02T10:00:00Z', '2026-03-02T11:00:00Z', { gpuModel: '' })], [flat])[0]?.unpriced).toBe('gpu model of GPU-aaaaaaaa unknown: the agent did not report it and no Node declares this GPU');
  });

  it('uses the tenant\'s price list and says clearly when it is missing', () => {
    const gold = prices([{ effectiveFrom: '2026-01-01T00:00:00Z', gpuHour: { [H100]: '1.20' } }], {}, 'gold');
    const lines = rate([iv('2026-03-02T10:00:00Z', '2026-03-02T11:00:00Z')], [flat, gold], { priceListOf: (tn) => (tn === 'acme' ? 'gold' : undefined) });
    expect(lines.map((l) => [l.priceList, l.amount])).toEqual([['gold', '1.20']]);
    expect(rate([iv('2026-03-02T10:00:00Z', '2026-03-02T11:00:00Z')], [flat], { priceListOf: () => 'nope' }).map((l) => [l.seconds, l.amount, l.unpriced])).toEqual([[3600, '0.00', 'tenant acme: price list nope not found']]);
  });

  it('moves late time of a closed month to the next open month, marked late, without re-billing what was billed', () => {
    const closedAt = t('2026-02-03T00:00:00Z');
    const closed = new Map([['2026-01', closedAt]]);
    const onTime = iv('2026-01-20T10:00:00Z', '2026-01-20T11:00:00Z', { receivedAt: t('2026-01-20T11:00:05Z') });
    const late = iv('2026-01-20T10:30:00Z', '2026-01-20T12:00:00Z', { receivedAt: t('2026-02-05T00:00:00Z') });
    const feb = iv('2026-02-10T10:00:00Z', '2026-02-10T11:00:00Z', { receivedAt: t('2026-02-10T11:00:00Z') });
    expect(brief(rate([onTime, late, feb], [flat], { closedMonths: closed }))).toEqual([
      ['2026-01', 'alice', H100, '2026-01-01T00:00:00Z', false, 3600, '2.49'],
      ['2026-02', 'alice', H100, '2026-01-01T00:00:00Z', false, 3600, '2.49'],
      ['2026-02', 'alice', H100, '2026-01-01T00:00:00Z', true, 3600, '2.49'],
    ]);
    // February closes later: the late hour stays on February's invoice (decided when it arrived), never moves to March
    const both = new Map([['2026-01', closedAt], ['2026-02', t('2026-03-01T01:00:00Z')]]);
    expect(brief(rate([late], [flat], { closedMonths: both }))).toEqual([['2026-02', 'alice', H100, '2026-01-01T00:00:00Z', true, 5400, '3.74']]);
    // arriving after both closes: March
    const later = { ...late, receivedAt: t('2026-03-02T00:00:00Z') };
    expect(brief(rate([later], [flat], { closedMonths: both }))).toEqual([['2026-03', 'alice', H100, '2026-01-01T00:00:00Z', true, 5400, '3.74']]);
    // the hub's assignment persisted at arrival wins over the clocks
    expect(brief(rate([{ ...later, lateTo: { '2026-01': '2026-02' } }], [flat], { closedMonths: both }))).toEqual([['2026-02', 'alice', H100, '2026-01-01T00:00:00Z', true, 5400, '3.74']]);
  });

  it('shows measured utilization per line, time-weighted, duplicates counted once', () => {
    const a = iv('2026-03-02T10:00:00Z', '2026-03-02T10:30:00Z', { utilization: 50 });
    const b = iv('2026-03-02T10:30:00Z', '2026-03-02T11:00:00Z', { utilization: 100 });
    const [line] = rate([a, b, b, b], [flat]);
    expect(line?.utilization).toBe(75);
    expect(line?.amount).toBe('2.49');
  });

  it('rejects an interval that ends before it starts', () => {
    expect(() => rate([iv('2026-03-02T11:00:00Z', '2026-03-02T10:00:00Z')], [flat])).toThrow('usage of workspace alice on GPU-aaaaaaaa: ends before it starts');
  });
});

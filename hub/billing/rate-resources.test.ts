import { describe, expect, it } from 'vitest';
import type { PriceList } from '../../common/infra/model.js';
import { buildInvoice, invoiceCsv, runningCost } from './invoice.js';
import { rate } from './rate.js';
import { coalesceResources, STORAGE_MONTH_SECONDS } from './rate-resources.js';
import type { ResourceInterval, UsageInterval } from './usage.js';
import { resourceIntervalsFromRecord } from './usage.js';

const H100 = 'NVIDIA H100 80GB HBM3';
const GIB = 2 ** 30;
const t = (iso: string): number => Date.parse(iso);
type Period = PriceList['spec']['periods'][number];
const list = (periods: Period[], extra: Partial<PriceList['spec']> = {}, name = 'default'): PriceList =>
  ({ apiVersion: 'foundry.cloud/v1', kind: 'PriceList', metadata: { name }, spec: { currency: 'EUR', periods: periods as PriceList['spec']['periods'], ...extra } });
const prices = list([
  { effectiveFrom: '2026-01-01T00:00:00Z', gpuHour: { [H100]: '2.49' }, vcpuHour: '0.012', memoryGiBHour: '0.004', storageGiBMonth: '0.08' },
  // from the 15th at noon: vCPUs cost more, memory is free, storage costs more
  { effectiveFrom: '2026-03-15T12:00:00Z', gpuHour: { [H100]: '2.49' }, vcpuHour: '0.015', storageGiBMonth: '0.10' },
]);
const res = (resource: ResourceInterval['resource'], quantity: number, from: string, to: string, more: Partial<ResourceInterval> = {}): ResourceInterval =>
  ({ workspace: 'alice', tenant: 'acme', node: 'gpu-01', resource, quantity, from: t(from), to: t(to), ...more });
const pick = (lines: ReturnType<typeof rate>) => lines.map((l) => [l.workspace, l.resource, l.periodFrom, l.late, l.seconds, l.quantity, l.unit, l.unitPrice, l.amount]);

describe('rate() of vCPUs, memory and storage', () => {
  it('vCPUs: milli-vCPU-seconds × vcpuHour / 3600, to the cent', () => {
    // 2.5 vCPUs for 10 h = 25 vCPU-hours × 0.012 = 0.30
    expect(pick(rate([], [prices], { resources: [res('vcpu', 2500, '2026-03-01T00:00:00Z', '2026-03-01T10:00:00Z')] }))).toEqual([
      ['alice', 'vcpu', '2026-01-01T00:00:00Z', false, 36000, '25.000000', 'vCPU-hour', '0.012', '0.30'],
    ]);
  });

  it('memory: GiB-seconds × memoryGiBHour / 3600, rounded half up once per line', () => {
    // 8 GiB for 3 h = 24 GiB-hours × 0.004 = 0.096 → 0.10; 1.5 GiB for 1 h = 0.006 → 0.01
    expect(pick(rate([], [prices], { resources: [res('memory', 8 * GIB, '2026-03-02T00:00:00Z', '2026-03-02T03:00:00Z'), res('memory', 1.5 * GIB, '2026-03-02T00:00:00Z', '2026-03-02T01:00:00Z', { workspace: 'bob' })] }))).toEqual([
      ['alice', 'memory', '2026-01-01T00:00:00Z', false, 10800, '24.000000', 'GiB-hour', '0.004', '0.10'],
      ['bob', 'memory', '2026-01-01T00:00:00Z', false, 3600, '1.500000', 'GiB-hour', '0.004', '0.01'],
    ]);
  });

  it('storage: a GiB-month is 30 days, so a whole February costs 28/30 and a whole January 31/30 of the monthly price', () => {
    expect(STORAGE_MONTH_SECONDS).toBe(30 * 86400);
    const lines = rate([], [prices], { resources: [res('storage', 40 * GIB, '2026-01-01T00:00:00Z', '2026-03-01T00:00:00Z')] });
    // January: 40 × 31/30 × 0.08 = 3.30666… → 3.31; February: 40 × 28/30 × 0.08 = 2.98666… → 2.99
    expect(lines.map((l) => [l.month, l.seconds, l.quantity, l.unit, l.amount])).toEqual([
      ['2026-01', 31 * 86400, '41.333333', 'GiB-month', '3.31'],
      ['2026-02', 28 * 86400, '37.333333', 'GiB-month', '2.99'],
    ]);
    // 30 days of 1 GiB at 0.08 is exactly 0.08
    expect(rate([], [prices], { resources: [res('storage', GIB, '2026-02-01T00:00:00Z', '2026-03-03T00:00:00Z')] }).map((l) => [l.month, l.quantity, l.amount]))
      .toEqual([['2026-02', '0.933333', '0.07'], ['2026-03', '0.066667', '0.01']]);
  });

  it('splits at a price change at the exact second; a resource without a price in a period is free there (no line)', () => {
    const lines = rate([], [prices], { resources: [
      res('vcpu', 1000, '2026-03-15T11:00:00Z', '2026-03-15T13:00:00Z'),
      res('memory', 16 * GIB, '2026-03-15T11:00:00Z', '2026-03-15T13:00:00Z'),
    ] });
    expect(pick(lines)).toEqual([
      ['alice', 'vcpu', '2026-01-01T00:00:00Z', false, 3600, '1.000000', 'vCPU-hour', '0.012', '0.01'],
      ['alice', 'vcpu', '2026-03-15T12:00:00Z', false, 3600, '1.000000', 'vCPU-hour', '0.015', '0.02'],
      ['alice', 'memory', '2026-01-01T00:00:00Z', false, 3600, '16.000000', 'GiB-hour', '0.004', '0.06'],
    ]);
  });

  it('rounds exactly half a cent up, and a price list without resource prices (or time before the first period) bills nothing', () => {
    const halfCent = list([{ effectiveFrom: '2026-01-01T00:00:00Z', gpuHour: { [H100]: '1' }, vcpuHour: '18' }]);
    // 1 vCPU for 1 s at 18/h = 0.005 → 0.01
    expect(rate([], [halfCent], { resources: [res('vcpu', 1000, '2026-03-01T00:00:00Z', '2026-03-01T00:00:01Z')] }).map((l) => l.amount)).toEqual(['0.01']);
    // 0.4 vCPU for 1 s = 0.002 → 0.00 (a line, worth nothing)
    expect(rate([], [halfCent], { resources: [res('vcpu', 400, '2026-03-01T00:00:00Z', '2026-03-01T00:00:01Z')] }).map((l) => l.amount)).toEqual(['0.00']);
    const gpuOnly = list([{ effectiveFrom: '2026-01-01T00:00:00Z', gpuHour: { [H100]: '2.49' } }]);
    expect(rate([], [gpuOnly], { resources: [res('vcpu', 4000, '2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z'), res('storage', GIB, '2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z')] })).toEqual([]);
    expect(rate([], [prices], { resources: [res('vcpu', 4000, '2025-12-31T23:00:00Z', '2026-01-01T01:00:00Z')] }).map((l) => [l.month, l.seconds, l.amount])).toEqual([['2026-01', 3600, '0.05']]);
    // no price list at all for the tenant: its vCPUs are free, its GPU time shows unpriced
    const cpu = [res('vcpu', 4000, '2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z')];
    expect(rate([], [prices], { resources: cpu, priceListOf: () => 'missing' })).toEqual([]);
    expect(rate([{ workspace: 'alice', tenant: 'acme', node: 'gpu-01', gpuUuid: 'GPU-1', gpuModel: H100, from: t('2026-03-01T00:00:00Z'), to: t('2026-03-01T01:00:00Z') }], [prices], { resources: cpu, priceListOf: () => 'missing' })
      .map((l) => [l.resource, l.amount, l.unpriced])).toEqual([['gpu', '0.00', 'tenant acme: price list missing not found']]);
  });

  it('counts duplicated and overlapping records once, adds up resizes, and rounds sessions up to the increment without the minimum charge', () => {
    const minute = list([{ effectiveFrom: '2026-01-01T00:00:00Z', gpuHour: { [H100]: '2.49' }, vcpuHour: '3.6' }], { increment: '1m', minimumCharge: '5m' });
    const gpu: UsageInterval = { workspace: 'alice', tenant: 'acme', node: 'gpu-01', gpuUuid: 'GPU-1', gpuModel: H100, from: t('2026-03-01T00:00:00Z'), to: t('2026-03-01T00:01:01Z') };
    const r = res('vcpu', 1000, '2026-03-01T00:00:00Z', '2026-03-01T00:01:01Z');
    const lines = rate([gpu], [minute], { resources: [r, { ...r }, res('vcpu', 1000, '2026-03-01T00:00:30Z', '2026-03-01T00:00:50Z'), res('vcpu', 2000, '2026-03-01T01:00:00Z', '2026-03-01T01:00:10Z')] });
    // GPU: 61 s → 300 s (minimum). vCPU: 61 s → 120 s and 10 s → 60 s (increment only): 1 × 120 + 2 × 60 = 240 vCPU-s at 3.6/h = 0.24
    expect(lines.map((l) => [l.resource, l.seconds, l.quantity, l.amount])).toEqual([['gpu', 300, '0.083333', '0.21'], ['vcpu', 180, '0.066667', '0.24']]);
  });

  it('moves time of a closed month that arrives late to the first open month, marked late, at the price of when it was used', () => {
    const closed = new Map([['2026-02', t('2026-03-01T06:00:00Z')]]);
    const onTime = res('vcpu', 1000, '2026-02-27T00:00:00Z', '2026-02-27T01:00:00Z', { receivedAt: t('2026-02-27T01:00:10Z') });
    const late = res('vcpu', 1000, '2026-02-28T00:00:00Z', '2026-02-28T01:00:00Z', { receivedAt: t('2026-03-02T00:00:00Z') });
    const dupOfBilled = { ...onTime, receivedAt: t('2026-03-02T00:00:00Z') };
    expect(rate([], [prices], { closedMonths: closed, resources: [onTime, late, dupOfBilled] }).map((l) => [l.month, l.late, l.seconds, l.amount])).toEqual([
      ['2026-02', false, 3600, '0.01'],
      ['2026-03', true, 3600, '0.01'],
    ]);
  });

  it('coalescing 10 s records changes nothing billed', () => {
    const raw: ResourceInterval[] = [];
    for (let s = 0; s < 3 * 3600; s += 10) raw.push(res('memory', 3 * GIB, '2026-03-31T22:00:00Z', '2026-03-31T22:00:00Z', { from: t('2026-03-31T22:00:00Z') + s * 1000, to: t('2026-03-31T22:00:00Z') + (s + 10) * 1000 }));
    const merged = coalesceResources(raw);
    expect(merged.map((m) => [m.quantity, new Date(m.from).toISOString(), new Date(m.to).toISOString()])).toEqual([
      [3 * GIB, '2026-03-31T22:00:00.000Z', '2026-04-01T00:00:00.000Z'],
      [3 * GIB, '2026-04-01T00:00:00.000Z', '2026-04-01T01:00:00.000Z'],
    ]);
    expect(rate([], [prices], { resources: merged })).toEqual(rate([], [prices], { resources: raw }));
  });

  it('reads the agent record: one interval per resource it holds', () => {
    expect(resourceIntervalsFromRecord({ node: 'n', workspace: 'w', tenant: 't', from: 1, to: 2, milliVcpus: 500, memoryBytes: 0, storageBytes: GIB }, 9)).toEqual([
      { workspace: 'w', tenant: 't', node: 'n', resource: 'vcpu', quantity: 500, from: 1, to: 2, receivedAt: 9 },
      { workspace: 'w', tenant: 't', node: 'n', resource: 'storage', quantity: GIB, from: 1, to: 2, receivedAt: 9 },
    ]);
    expect(() => rate([], [prices], { resources: [res('vcpu', 0.5, '2026-03-01T00:00:00Z', '2026-03-01T01:00:00Z')] })).toThrow(/quantity must be a positive integer/);
  });
});

describe('invoices with resource lines', () => {
  const lines = rate(
    [{ workspace: 'alice', tenant: 'acme', node: 'gpu-01', gpuUuid: 'GPU-1', gpuModel: H100, from: t('2026-03-01T00:00:00Z'), to: t('2026-03-01T02:00:00Z') }],
    [prices],
    { resources: [res('vcpu', 4000, '2026-03-01T00:00:00Z', '2026-03-01T02:00:00Z'), res('memory', 32 * GIB, '2026-03-01T00:00:00Z', '2026-03-01T02:00:00Z'), res('storage', 100 * GIB, '2026-03-01T00:00:00Z', '2026-03-01T02:00:00Z'), res('vcpu', 1000, '2026-03-01T00:00:00Z', '2026-03-01T10:00:00Z', { workspace: 'cpu-only' })] },
  );

  it('one line per workspace × resource × period, GPU first; totals count GPU-seconds only and every amount', () => {
    const inv = buildInvoice('acme', '2026-03', lines);
    expect(inv.lines.map((l) => [l.workspace, l.resource, l.gpuModel, l.seconds, l.gpuHours, l.quantity, l.unit, l.unitPrice, l.amount])).toEqual([
      ['alice', 'gpu', H100, 7200, '2.000000', '2.000000', 'GPU-hour', '2.49', '4.98'],
      ['alice', 'vcpu', '', 7200, '0.000000', '8.000000', 'vCPU-hour', '0.012', '0.10'],
      ['alice', 'memory', '', 7200, '0.000000', '64.000000', 'GiB-hour', '0.004', '0.26'],
      ['alice', 'storage', '', 7200, '0.000000', '0.277778', 'GiB-month', '0.08', '0.02'],
      ['cpu-only', 'vcpu', '', 36000, '0.000000', '10.000000', 'vCPU-hour', '0.012', '0.12'],
    ]);
    expect(inv.totals).toEqual({ seconds: 7200, gpuSeconds: 7200, gpuHours: '2.000000', amount: '5.48', amountMinor: '548' });
    expect(runningCost('acme', '2026-03', lines)).toEqual({ currency: 'EUR', total: '5.48', byWorkspace: { alice: '5.36', 'cpu-only': '0.12' } });
  });

  it('renders them in CSV with resource, quantity and unit as the last columns', () => {
    expect(invoiceCsv(buildInvoice('acme', '2026-03', lines)).split('\r\n').slice(0, 3)).toEqual([
      'tenant,month,workspace,gpu_model,price_period_from,late,seconds,gpu_hours,unit_price,amount,currency,measured_utilization_percent_not_billed,resource,quantity,unit,unpriced',
      `acme,2026-03,alice,${H100},2026-01-01T00:00:00Z,false,7200,2.000000,2.49,4.98,EUR,,gpu,2.000000,GPU-hour,`,
      'acme,2026-03,alice,,2026-01-01T00:00:00Z,false,7200,0.000000,0.012,0.10,EUR,,vcpu,8.000000,vCPU-hour,',
    ]);
  });
});

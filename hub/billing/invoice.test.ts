import { describe, expect, it } from 'vitest';
import type { PriceList } from '../../common/infra/model.js';
import { buildInvoice, buildInvoices, csvField, invoiceCsv, runningCost, UTILIZATION_LABEL } from './invoice.js';
import { rate } from './rate.js';
import type { UsageInterval } from './usage.js';

const H100 = 'NVIDIA H100 80GB HBM3';
const t = (iso: string): number => Date.parse(iso);
const list: PriceList = {
  apiVersion: 'foundry.cloud/v1', kind: 'PriceList', metadata: { name: 'default' },
  spec: { currency: 'EUR', periods: [
    { effectiveFrom: '2026-01-01T00:00:00Z', gpuHour: { [H100]: '2.49', 'Tesla T4, "PCIe"': '0.35' } },
    { effectiveFrom: '2026-03-15T00:00:00Z', gpuHour: { [H100]: '2.29', 'Tesla T4, "PCIe"': '0.35' } },
  ] },
};
const iv = (workspace: string, tenant: string, from: string, to: string, more: Partial<UsageInterval> = {}): UsageInterval =>
  ({ workspace, tenant, node: 'gpu-01', gpuUuid: `GPU-${workspace}-0001`, gpuModel: H100, from: t(from), to: t(to), ...more });

const lines = rate([
  iv('alice', 'acme', '2026-03-14T22:00:00Z', '2026-03-15T02:00:00Z', { utilization: 40 }),
  iv('bob', 'acme', '2026-03-01T00:00:00Z', '2026-03-01T10:00:00Z', { gpuModel: 'Tesla T4, "PCIe"' }),
  iv('carol', 'other', '2026-03-01T00:00:00Z', '2026-03-01T10:00:00Z'),
  iv('alice', 'acme', '2026-04-01T00:00:00Z', '2026-04-01T01:00:00Z'),
], [list]);

describe('buildInvoice', () => {
  it('keeps the tenant\'s lines of the month, totals them and labels utilization as not billed', () => {
    const inv = buildInvoice('acme', '2026-03', lines, { displayName: 'Acme GmbH' });
    expect(inv).toEqual({
      tenant: 'acme', displayName: 'Acme GmbH', month: '2026-03', periodStart: '2026-03-01T00:00:00Z', periodEnd: '2026-04-01T00:00:00Z', currency: 'EUR',
      lines: [
        { workspace: 'alice', resource: 'gpu', gpuModel: H100, periodFrom: '2026-01-01T00:00:00Z', late: false, seconds: 7200, gpuHours: '2.000000', quantity: '2.000000', unit: 'GPU-hour', unitPrice: '2.49', amount: '4.98', measuredUtilization: { label: UTILIZATION_LABEL, percent: 40 } },
        { workspace: 'alice', resource: 'gpu', gpuModel: H100, periodFrom: '2026-03-15T00:00:00Z', late: false, seconds: 7200, gpuHours: '2.000000', quantity: '2.000000', unit: 'GPU-hour', unitPrice: '2.29', amount: '4.58', measuredUtilization: { label: UTILIZATION_LABEL, percent: 40 } },
        { workspace: 'bob', resource: 'gpu', gpuModel: 'Tesla T4, "PCIe"', periodFrom: '2026-01-01T00:00:00Z', late: false, seconds: 36000, gpuHours: '10.000000', quantity: '10.000000', unit: 'GPU-hour', unitPrice: '0.35', amount: '3.50', measuredUtilization: null },
      ],
      totals: { seconds: 50400, gpuSeconds: 50400, gpuHours: '14.000000', amount: '13.06', amountMinor: '1306' },
    });
    expect(JSON.parse(JSON.stringify(inv))).toEqual(inv);
  });

  it('gives an empty invoice with zero totals for a month without usage', () => {
    expect(buildInvoice('acme', '2026-02', lines).totals).toEqual({ seconds: 0, gpuSeconds: 0, gpuHours: '0.000000', amount: '0.00', amountMinor: '0' });
  });

  it('renders RFC 4180 CSV: header, CRLF, quoted fields', () => {
    expect(invoiceCsv(buildInvoice('acme', '2026-03', lines))).toBe([
      'tenant,month,workspace,gpu_model,price_period_from,late,seconds,gpu_hours,unit_price,amount,currency,measured_utilization_percent_not_billed,resource,quantity,unit,unpriced',
      `acme,2026-03,alice,${H100},2026-01-01T00:00:00Z,false,7200,2.000000,2.49,4.98,EUR,40,gpu,2.000000,GPU-hour,`,
      `acme,2026-03,alice,${H100},2026-03-15T00:00:00Z,false,7200,2.000000,2.29,4.58,EUR,40,gpu,2.000000,GPU-hour,`,
      'acme,2026-03,bob,"Tesla T4, ""PCIe""",2026-01-01T00:00:00Z,false,36000,10.000000,0.35,3.50,EUR,,gpu,10.000000,GPU-hour,',
      '',
    ].join('\r\n'));
    expect(csvField('a\nb')).toBe('"a\nb"');
    expect(csvField('plain')).toBe('plain');
  });

  it('builds every tenant\'s invoice of a month in one pass, equal to one by one', () => {
    const all = buildInvoices('2026-03', lines, new Map([['acme', 'Acme GmbH']]));
    expect([...all.keys()]).toEqual(['acme', 'other']);
    expect(all.get('acme')).toEqual(buildInvoice('acme', '2026-03', lines, { displayName: 'Acme GmbH' }));
    expect(all.get('other')).toEqual(buildInvoice('other', '2026-03', lines));
  });

  it('reports the running cost per workspace', () => {
    expect(runningCost('acme', '2026-03', lines)).toEqual({ currency: 'EUR', total: '13.06', byWorkspace: { alice: '9.56', bob: '3.50' } });
  });
});

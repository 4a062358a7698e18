import { describe, expect, it } from 'vitest';
import { routeToInvoiceMonths, subtractSpans, unionSpans } from './sessions.js';
import type { UsageInterval } from './usage.js';

const t = (iso: string): number => Date.parse(iso);
const sec = (iso: string): number => t(iso) / 1000;

describe('span arithmetic', () => {
  it('unites overlapping and touching spans, keeps gaps', () => {
    expect(unionSpans([{ from: 5, to: 8 }, { from: 0, to: 2 }, { from: 2, to: 3 }, { from: 6, to: 10 }])).toEqual([{ from: 0, to: 3 }, { from: 5, to: 10 }]);
  });
  it('subtracts', () => {
    expect(subtractSpans([{ from: 0, to: 10 }, { from: 20, to: 30 }], [{ from: 2, to: 4 }, { from: 8, to: 22 }, { from: 29, to: 40 }])).toEqual([
      { from: 0, to: 2 }, { from: 4, to: 8 }, { from: 22, to: 29 },
    ]);
  });
});

describe('routeToInvoiceMonths', () => {
  it('cuts at month ends and moves late pieces of closed months to the first month open when the record arrived', () => {
    const iv: UsageInterval = { workspace: 'alice', tenant: 'acme', node: 'gpu-01', gpuUuid: 'GPU-aaaaaaaa', gpuModel: 'NVIDIA L40S',
      from: t('2026-01-31T23:00:00Z'), to: t('2026-03-01T01:00:00Z'), receivedAt: t('2026-03-05T00:00:00Z') };
    const closed = new Map([['2026-01', t('2026-02-02T00:00:00Z')], ['2026-02', t('2026-03-06T00:00:00Z')]]);
    expect(routeToInvoiceMonths([iv], closed).map(({ interval: _i, ...rest }) => rest)).toEqual([
      { from: sec('2026-01-31T23:00:00Z'), to: sec('2026-02-01T00:00:00Z'), usedIn: '2026-01', invoiceMonth: '2026-02', late: true },
      { from: sec('2026-02-01T00:00:00Z'), to: sec('2026-03-01T00:00:00Z'), usedIn: '2026-02', invoiceMonth: '2026-02', late: false },
      { from: sec('2026-03-01T00:00:00Z'), to: sec('2026-03-01T01:00:00Z'), usedIn: '2026-03', invoiceMonth: '2026-03', late: false },
    ]);
  });
});

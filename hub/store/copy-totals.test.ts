import { expect, it } from 'vitest';
import { addInvoice, addUsage, compareTotals, type Totals } from './copy-totals.js';

const jan = Date.parse('2026-01-31T23:59:59.500Z');

it('adds usage seconds per tenant and the month the time starts in, whole seconds at both ends, early field names too', () => {
  const t: Totals = new Map();
  addUsage(t, { payload: JSON.stringify({ tenant: 'acme', from: jan, to: jan + 1_000 }) });
  addUsage(t, { payload: JSON.stringify({ tenant: 'acme', fromMs: jan, toMs: jan + 61_000 }) });
  addUsage(t, { payload: JSON.stringify({ tenant: 'acme', from: jan + 1_000, to: jan + 2_000 }) });
  // not counted: no tenant, fractional or missing times, not JSON
  addUsage(t, { payload: JSON.stringify({ from: jan, to: jan + 1_000 }) });
  addUsage(t, { payload: JSON.stringify({ tenant: 'acme', from: jan + 0.5, to: jan + 1_000 }) });
  addUsage(t, { payload: JSON.stringify({ tenant: 'acme', from: jan }) });
  addUsage(t, { payload: 'not json' });
  expect([...t.entries()]).toEqual([
    ['acme\u00002026-01', { records: 2, seconds: 62 }],
    ['acme\u00002026-02', { records: 1, seconds: 1 }],
  ]);
});

it('reads a frozen invoice\'s total and compares both sides month by month', () => {
  const source: Totals = new Map();
  const target: Totals = new Map();
  const row = (amount: string): Record<string, unknown> => ({ tenant: 'acme', month: '2026-01', invoice_json: JSON.stringify({ currency: 'EUR', totals: { amount } }) });
  addInvoice(source, row('12.34'));
  addInvoice(target, row('12.35'));
  addUsage(source, { payload: JSON.stringify({ tenant: 'globex', from: jan, to: jan + 10_000 }) });
  addUsage(target, { payload: JSON.stringify({ tenant: 'globex', from: jan, to: jan + 10_000 }) });
  addInvoice(source, { tenant: 'globex', month: '2026-01', invoice_json: '{' });
  expect(compareTotals(source, target)).toEqual([
    { tenant: 'acme', month: '2026-01', source: { records: 0, seconds: 0, invoice: '12.34 EUR' }, target: { records: 0, seconds: 0, invoice: '12.35 EUR' }, ok: false },
    { tenant: 'globex', month: '2026-01', source: { records: 1, seconds: 10, invoice: '?' }, target: { records: 1, seconds: 10 }, ok: false },
  ]);
});

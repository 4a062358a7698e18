/**
 * No stored usage record can make an invoice or a month close fail. Rows are written straight into the
 * real SQLite store (as an old hub, a bug or a hand edit could have left them): a record dated 1970, one
 * spanning twenty years, absurd quantities, wrong types, a payload that is not an object. Each is excluded
 * from the amount, counted and listed on the invoice of the month it arrived in (admin alert), and logged;
 * the good records around them are billed to the cent.
 */
import { describe, expect, it } from 'vitest';
import { HubStore } from '../../hub/store/hub-store.js';
import { Invoicer } from '../../hub/invoicing/invoicer.js';
import { repoOf } from '../support/infra-repo.js';

const H100 = 'NVIDIA H100 80GB HBM3';
const repo = repoOf([
  { kind: 'Tenant', metadata: { name: 'acme' }, spec: { displayName: 'ACME' } },
  { kind: 'Tenant', metadata: { name: 'globex' }, spec: { displayName: 'Globex' } },
  { kind: 'Node', metadata: { name: 'n1' }, spec: { profile: 'gpu-node', gpus: [{ uuid: 'GPU-1', model: H100 }] } },
  { kind: 'PriceList', metadata: { name: 'default' }, spec: { currency: 'EUR', periods: [{ effectiveFrom: '2026-01-01T00:00:00Z', gpuHour: { [H100]: '3.60' }, storageGiBMonth: '0.08' }] } },
]);
const at = (iso: string): number => Date.parse(iso);
const gpu = (tenant: string, from: number, to: number, more: Record<string, unknown> = {}) => ({ kind: 'gpu-allocation', version: 1, node: 'n1', workspace: `${tenant}-w`, tenant, gpuUuid: 'GPU-1', gpuModel: H100, from, to, ...more });

describe('records that cannot be rated', () => {
  it('are excluded, counted and reported; invoices and the month close of every tenant still work', async () => {
    let now = at('2026-04-01T01:00:00Z');
    const store = new HubStore(':memory:', { now: () => new Date(now) });
    const warnings: Array<{ obj: Record<string, unknown>; msg: string }> = [];
    const invoicer = new Invoicer(store.billing, () => now, { warn: (obj, msg) => warnings.push({ obj: obj as Record<string, unknown>, msg }) });
    try {
      const insert = store.db.prepare('INSERT INTO usage_records (node, seq, payload, received_at) VALUES (?, ?, ?, ?)');
      const received = '2026-03-15T00:00:00.000Z';
      let seq = 0;
      const row = (payload: string): void => { insert.run('n1', ++seq, payload, received); };
      row(JSON.stringify(gpu('acme', at('2026-03-10T00:00:00Z'), at('2026-03-10T01:00:00Z')))); // good: 3.60
      row(JSON.stringify(gpu('globex', at('2026-03-11T00:00:00Z'), at('2026-03-11T00:30:00Z')))); // good: 1.80
      row(JSON.stringify(gpu('acme', 0, 10_000))); // 1970
      row(JSON.stringify(gpu('acme', at('2006-03-01T00:00:00Z'), at('2026-03-01T00:00:00Z')))); // twenty years
      row(JSON.stringify(gpu('acme', at('2027-03-01T00:00:00Z'), at('2027-03-01T01:00:00Z')))); // a year ahead of its arrival
      row(JSON.stringify({ kind: 'resource-allocation', version: 1, node: 'n1', workspace: 'acme-w', tenant: 'acme', storageBytes: 5 * 2 ** 50, from: at('2026-03-10T00:00:00Z'), to: at('2026-03-10T01:00:00Z') })); // 5 PiB
      row(JSON.stringify(gpu('acme', at('2026-03-12T00:00:00Z'), Number.MAX_VALUE)));
      row(JSON.stringify(gpu('acme', 'yesterday' as never, at('2026-03-12T00:00:00Z'))));
      row(JSON.stringify(gpu('acme', at('2026-03-12T00:00:00Z'), at('2026-03-12T01:00:00Z'), { gpuUuid: 42 })));
      row(JSON.stringify([1, 2, 3])); // not an object, no tenant: reported at the close only
      row('"just a string"');

      const march = await invoicer.invoice(repo, 'acme', '2026-03');
      expect(march.invoice.lines.map((l) => [l.workspace, l.seconds, l.amount])).toEqual([['acme-w', 3600, '3.60']]);
      expect(march.invoice.totals.amount).toBe('3.60');
      expect(march.invoice.alerts).toEqual([{
        code: 'UNRATABLE', count: 7, message: '7 stored usage records could not be rated and are excluded from the amount',
        records: [
          { node: 'n1', seq: 3, reason: 'starts at 1970-01-01T00:00:00.000Z, before 2020-01-01: the node\'s clock was not set' },
          { node: 'n1', seq: 4, reason: 'spans 7305 days: one record may span at most 31 days' },
          { node: 'n1', seq: 5, reason: 'ends at 2027-03-01T01:00:00.000Z, after it arrived (2026-03-15T00:00:00.000Z): time not yet measured' },
          { node: 'n1', seq: 6, reason: `storageBytes ${5 * 2 ** 50} is not a whole number in 0..${2 ** 50}` },
          { node: 'n1', seq: 7, reason: 'from and to must be whole epoch milliseconds' },
          { node: 'n1', seq: 8, reason: 'from and to must be whole epoch milliseconds' },
          { node: 'n1', seq: 9, reason: 'gpuUuid is missing or not a name' },
        ],
      }]);
      // the months the bad records claim are not broken either
      for (const m of ['1970-01', '2006-03', '2027-03']) expect((await invoicer.invoice(repo, 'acme', m)).invoice.totals.amount).toBe('0.00');
      expect(await invoicer.usage(repo, 'acme', '2026-03')).toMatchObject({ total: '3.60', seconds: 3600 });

      const closed = await invoicer.close(repo, '2026-03', 'admin');
      expect(closed.invoices).toEqual([{ tenant: 'acme', total: '3.60', currency: 'EUR', alerts: 1 }, { tenant: 'globex', total: '1.80', currency: 'EUR', alerts: 0 }]);
      expect(closed.unattributed).toBe(2);
      expect((await invoicer.invoice(repo, 'acme', '2026-03')).invoice.alerts?.[0]?.count).toBe(7);
      expect(warnings.map((w) => w.msg)).toEqual([
        'billing: 7 stored usage records could not be rated and are excluded from the amount',
        'billing: usage records without a readable tenant cannot be rated; excluded from every invoice',
      ]);
      expect(warnings[0]?.obj).toMatchObject({ tenant: 'acme', month: '2026-03', code: 'UNRATABLE', count: 7 });
      // April goes on: nothing from March's bad rows follows it
      now = at('2026-05-01T01:00:00Z');
      expect((await invoicer.close(repo, '2026-04', 'admin')).invoices.map((i) => i.total)).toEqual(['0.00', '0.00']);
    } finally {
      await store.close();
    }
  });
});

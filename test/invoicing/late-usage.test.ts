/**
 * Late usage through the hub's real path (SQLite store, the arrival trigger, Invoicer): the invoice a late
 * record is billed on is decided when it arrives and never again, so later closes do not bill it twice;
 * unpriced GPU time is listed once, on a defined invoice, kept by the frozen month, idempotent on resend.
 */
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { HubStore } from '../../hub/store/hub-store.js';
import { migrate } from '../../hub/store/migrate.js';
import { MIGRATIONS } from '../../hub/store/migrations/index.js';
import { Invoicer } from '../../hub/invoicing/invoicer.js';
import { repoOf } from '../support/infra-repo.js';

const H100 = 'NVIDIA H100 80GB HBM3';
const repo = repoOf([
  { kind: 'Tenant', metadata: { name: 'acme' }, spec: { displayName: 'ACME' } },
  { kind: 'Node', metadata: { name: 'n1' }, spec: { profile: 'gpu-node', gpus: [{ uuid: 'GPU-1', model: H100 }] } },
  { kind: 'PriceList', metadata: { name: 'default' }, spec: { currency: 'EUR', periods: [{ effectiveFrom: '2026-01-01T00:00:00Z', gpuHour: { [H100]: '3.60' } }] } },
]);
const at = (iso: string): number => Date.parse(iso);
const gpu = (from: string, to: string, more: Record<string, unknown> = {}) => ({ kind: 'gpu-allocation', version: 1, node: 'n1', workspace: 'w', tenant: 'acme', gpuUuid: 'GPU-1', gpuModel: H100, from: at(from), to: at(to), ...more });

function world(start: string) {
  let now = at(start);
  const store = new HubStore(':memory:', { now: () => new Date(now) });
  const invoicer = new Invoicer(store.billing, () => now);
  let seq = 0;
  return {
    store, invoicer,
    set: (iso: string) => { now = at(iso); },
    put: async (payload: unknown, s = ++seq) => { await store.ingest([{ node: 'n1', seq: s, kind: 'usage', payload }]); },
    lines: async (month: string) => (await invoicer.invoice(repo, 'acme', month)).invoice.lines.map((l) => [l.late, l.seconds, l.amount, l.unpriced ?? null]),
  };
}

describe('late usage is billed exactly once', () => {
  it('on the invoice of the first month open when it arrived, and never again on later months when those close', async () => {
    const w = world('2026-03-31T12:00:00Z');
    try {
      await w.put(gpu('2026-03-10T00:00:00Z', '2026-03-10T01:00:00Z'));
      w.set('2026-04-01T01:00:00Z');
      await w.invoicer.close(repo, '2026-03', 'admin');
      // ten minutes of March arrive while April is open: billed on April, late
      w.set('2026-04-02T00:00:00Z');
      await w.put(gpu('2026-03-20T00:00:00Z', '2026-03-20T00:10:00Z'));
      expect(await w.lines('2026-04')).toEqual([[true, 600, '0.60', null]]);
      w.set('2026-05-01T01:00:00Z');
      expect((await w.invoicer.close(repo, '2026-04', 'admin')).invoices).toEqual([{ tenant: 'acme', total: '0.60', currency: 'EUR', alerts: 0 }]);
      // May knows nothing of it (before the fix: billed again here, and again on every later month)
      expect(await w.lines('2026-05')).toEqual([]);
      w.set('2026-06-01T01:00:00Z');
      expect((await w.invoicer.close(repo, '2026-05', 'admin')).invoices).toEqual([{ tenant: 'acme', total: '0.00', currency: 'EUR', alerts: 0 }]);
      expect(await w.lines('2026-06')).toEqual([]);
      expect(w.store.db.prepare('SELECT used_month, invoice_month FROM usage_late').all()).toEqual([{ used_month: '2026-03', invoice_month: '2026-04' }]);
    } finally {
      await w.store.close();
    }
  });

  it('a resend of late time already billed on an earlier invoice costs nothing; new late time after two closes lands on the next open month', async () => {
    const w = world('2026-04-01T01:00:00Z');
    try {
      await w.invoicer.close(repo, '2026-03', 'admin');
      await w.put(gpu('2026-03-20T00:00:00Z', '2026-03-20T00:10:00Z'));
      w.set('2026-05-01T01:00:00Z');
      await w.invoicer.close(repo, '2026-04', 'admin');
      // after both closes: the same ten minutes again (new seq, after a reconnect) plus five new minutes
      await w.put(gpu('2026-03-20T00:00:00Z', '2026-03-20T00:15:00Z'));
      expect(await w.lines('2026-05')).toEqual([[true, 300, '0.30', null]]);
      expect((await w.invoicer.invoice(repo, 'acme', '2026-04')).invoice.totals.amount).toBe('0.60');
    } finally {
      await w.store.close();
    }
  });

  it('cuts a late run at the month end: each piece goes where its month sends it, on-time pieces stay on time', async () => {
    const w = world('2026-04-01T01:00:00Z');
    try {
      await w.invoicer.close(repo, '2026-03', 'admin');
      // 23:50 March 31 → 00:20 April 1: the March piece is late on April, the April piece on time on April
      await w.put(gpu('2026-03-31T23:50:00Z', '2026-04-01T00:20:00Z'));
      expect(await w.lines('2026-04')).toEqual([[false, 1200, '1.20', null], [true, 600, '0.60', null]]);
      expect(w.store.db.prepare('SELECT used_month, invoice_month FROM usage_late').all()).toEqual([{ used_month: '2026-03', invoice_month: '2026-04' }]);
    } finally {
      await w.store.close();
    }
  });

  it('keeps the decision for rows stored before the migration (from received_at and the close instants)', async () => {
    const db = new Database(':memory:');
    try {
      migrate(db, MIGRATIONS.filter((m) => m.version <= 31));
      db.prepare("INSERT INTO billing_closed_months VALUES ('2026-03', ?, 'admin'), ('2026-04', ?, 'admin')").run(at('2026-04-01T01:00:00Z'), at('2026-05-01T01:00:00Z'));
      const ins = db.prepare('INSERT INTO usage_records (node, seq, payload, received_at) VALUES (?, ?, ?, ?)');
      ins.run('n1', 1, JSON.stringify(gpu('2026-03-10T00:00:00Z', '2026-03-10T01:00:00Z')), '2026-03-10T01:00:01.000Z'); // on time
      ins.run('n1', 2, JSON.stringify(gpu('2026-03-20T00:00:00Z', '2026-03-20T00:10:00Z')), '2026-04-02T00:00:00.000Z'); // late → April
      ins.run('n1', 3, JSON.stringify(gpu('2026-03-21T00:00:00Z', '2026-03-21T00:10:00Z')), '2026-05-02T00:00:00.000Z'); // late → May
      ins.run('n1', 4, JSON.stringify({ tenant: 'acme', from: 'garbage' }), '2026-05-02T00:00:00.000Z');
      expect(migrate(db, MIGRATIONS)).toContain(35);
      expect(db.prepare('SELECT usage_id, used_month, invoice_month FROM usage_late ORDER BY usage_id').all()).toEqual([
        { usage_id: 2, used_month: '2026-03', invoice_month: '2026-04' },
        { usage_id: 3, used_month: '2026-03', invoice_month: '2026-05' },
      ]);
    } finally {
      db.close();
    }
  });
});

describe('unpriced GPU time', () => {
  it('is listed once, on the invoice of the month it was used, kept by the frozen month; a resend adds nothing', async () => {
    const w = world('2026-03-31T12:00:00Z');
    try {
      const unknown = { gpuUuid: 'GPU-9', gpuModel: null };
      await w.put(gpu('2026-03-10T00:00:00Z', '2026-03-10T01:00:00Z'));
      await w.put(gpu('2026-03-11T00:00:00Z', '2026-03-11T00:30:00Z', unknown));
      await w.put(gpu('2026-03-11T00:00:00Z', '2026-03-11T00:30:00Z', unknown)); // resent under a new seq
      const why = 'gpu model of GPU-9 unknown: the agent did not report it and no Node declares this GPU';
      const march = await w.invoicer.invoice(repo, 'acme', '2026-03');
      expect(march.invoice.lines.map((l) => [l.gpuModel, l.seconds, l.unitPrice, l.amount, l.unpriced ?? null])).toEqual([['', 1800, '', '0.00', why], [H100, 3600, '3.60', '3.60', null]]);
      expect(march.unpriced).toEqual([{ workspace: 'w', gpuModel: '', late: false, seconds: 1800, reason: why }]);
      expect(march.invoice.alerts).toEqual([{ code: 'UNPRICED', count: 1, message: '1 line of GPU time without a price (amount 0): add the price to the price list' }]);
      expect(march.invoice.totals).toMatchObject({ seconds: 3600, amount: '3.60' });
      expect(march.csv.split("\r\n")[1]).toBe(`acme,2026-03,w,,2026-01-01T00:00:00Z,false,1800,0.500000,,0.00,EUR,,gpu,0.500000,GPU-hour,${why}`);
      // not on April's invoice
      expect((await w.invoicer.invoice(repo, 'acme', '2026-04')).unpriced).toEqual([]);
      w.set('2026-04-01T01:00:00Z');
      expect((await w.invoicer.close(repo, '2026-03', 'admin')).invoices).toEqual([{ tenant: 'acme', total: '3.60', currency: 'EUR', alerts: 1 }]);
      const frozen = await w.invoicer.invoice(repo, 'acme', '2026-03');
      expect(frozen.frozen).toBe(true);
      expect(frozen.unpriced).toEqual(march.unpriced);
      expect(frozen.invoice.alerts).toEqual(march.invoice.alerts);
      expect((await w.invoicer.invoice(repo, 'acme', '2026-04')).unpriced).toEqual([]);
    } finally {
      await w.store.close();
    }
  });
});

/**
 * The billing repository on both backends, with the same assertions: closed months and frozen invoices,
 * the usage rows billing reads (typed alike: a JSON number stays a number, only JSON strings are
 * tenants), and the late assignment migration 35's trigger makes on arrival (SQLite's trigger and the
 * PostgreSQL one give the same rows). Last, one month closed through the Invoicer: the same invoice.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeBackends, openTestSql, type TestSql } from '../support/store-backends.js';
import { SqlBillingRepo } from '../../hub/store/billing-repo.js';
import { Invoicer } from '../../hub/invoicing/invoicer.js';
import { repoOf } from '../support/infra-repo.js';

const H100 = 'NVIDIA H100 80GB HBM3';
const at = (iso: string): number => Date.parse(iso);
const gpu = (from: string, to: string, more: Record<string, unknown> = {}) => ({ kind: 'gpu-allocation', version: 1, node: 'n1', workspace: 'w', tenant: 'acme', gpuUuid: 'GPU-1', gpuModel: H100, from: at(from), to: at(to), ...more });
const infra = repoOf([
  { kind: 'Tenant', metadata: { name: 'acme' }, spec: { displayName: 'ACME' } },
  { kind: 'Tenant', metadata: { name: 'globex' }, spec: {} },
  { kind: 'Node', metadata: { name: 'n1' }, spec: { profile: 'gpu-node', gpus: [{ uuid: 'GPU-1', model: H100 }] } },
  { kind: 'PriceList', metadata: { name: 'default' }, spec: { currency: 'EUR', periods: [{ effectiveFrom: '2026-01-01T00:00:00Z', gpuHour: { [H100]: '3.60' }, vcpuHour: '0.012' }] } },
]);

describeBackends('billing repo', (backend) => {
  let db: TestSql;
  let repo: SqlBillingRepo;
  let seq = 0;
  /** Stores a usage record as HubStore.ingest does (the arrival trigger runs); returns its row id. */
  const put = async (payload: unknown, receivedAt = '2026-04-02T00:00:00.000Z', node = 'n1'): Promise<number> => {
    const row = await db.sql.get<{ id: number }>('INSERT INTO usage_records (node, seq, payload, received_at) VALUES (?, ?, ?, ?) RETURNING id', [node, ++seq, typeof payload === 'string' ? payload : JSON.stringify(payload), receivedAt]);
    return row!.id;
  };
  const close = (month: string, atIso: string, invoices: Array<{ tenant: string; json: string; csv: string }> = []) => repo.closing((tx) => tx.close(month, at(atIso), 'admin', invoices));
  const late = () => db.sql.all<{ usage_id: number; used_month: string; invoice_month: string }>('SELECT usage_id, used_month, invoice_month FROM usage_late ORDER BY usage_id, used_month');

  beforeEach(async () => {
    db = await openTestSql(backend);
    repo = new SqlBillingRepo(db.sql);
    seq = 0;
  });
  afterEach(async () => db?.close());

  it('keeps closed months with their frozen invoices; a second close of a month fails and stores nothing', async () => {
    expect(await repo.closedMonths()).toEqual(new Map());
    await close('2026-03', '2026-04-01T01:00:00Z', [{ tenant: 'acme', json: '{"a":1}', csv: 'a\r\n1' }, { tenant: 'globex', json: '{}', csv: '' }]);
    await close('2026-02', '2026-03-01T01:00:00Z');
    expect(await repo.closedMonths()).toEqual(new Map([['2026-02', at('2026-03-01T01:00:00Z')], ['2026-03', at('2026-04-01T01:00:00Z')]]));
    expect(await repo.closedList()).toEqual([
      { month: '2026-02', closedAt: '2026-03-01T01:00:00.000Z', closedBy: 'admin' },
      { month: '2026-03', closedAt: '2026-04-01T01:00:00.000Z', closedBy: 'admin' },
    ]);
    expect(await repo.frozen('acme', '2026-03')).toEqual({ json: '{"a":1}', csv: 'a\r\n1' });
    expect(await repo.frozen('acme', '2026-02')).toBeUndefined();
    await expect(close('2026-03', '2026-04-02T00:00:00Z', [{ tenant: 'initech', json: '{}', csv: '' }])).rejects.toThrow();
    expect(await repo.frozen('initech', '2026-03')).toBeUndefined();
    expect((await repo.closedList()).map((c) => c.closedAt)).toEqual(['2026-03-01T01:00:00.000Z', '2026-04-01T01:00:00.000Z']);
  });

  it('reads a tenant\'s rated rows before a time, by node and seq, payloads as stored, and only JSON-string tenants', async () => {
    await put(gpu('2026-03-10T00:00:00Z', '2026-03-10T01:00:00Z'), '2026-03-10T01:00:01.000Z', 'n2');
    await put(gpu('2026-03-11T00:00:00Z', '2026-03-11T01:00:00Z'), '2026-03-11T01:00:01.000Z');
    await put({ ...gpu('2026-04-01T00:00:00Z', '2026-04-01T01:00:00Z') }, '2026-04-01T01:00:01.000Z');
    await put({ ...gpu('2026-03-12T00:00:00Z', '2026-03-12T01:00:00Z'), tenant: 'globex' }, '2026-03-12T01:00:01.000Z');
    await put({ tenant: 'acme', fromMs: at('2026-03-13T00:00:00Z'), toMs: at('2026-03-13T00:10:00Z') }, '2026-03-13T01:00:00.000Z'); // early field names
    await put({ tenant: 'acme', from: String(at('2026-03-14T00:00:00Z')) }, '2026-03-14T01:00:00.000Z'); // not a number: not rated here
    await put({ tenant: 7, from: at('2026-03-15T00:00:00Z') }, '2026-03-15T01:00:00.000Z'); // a number is no tenant
    await put({ tenant: '7', from: at('2026-03-15T00:00:00Z') }, '2026-03-15T02:00:00.000Z');
    await put({ tenant: 'acme', from: null, fromMs: at('2026-03-16T00:00:00Z') }, '2026-03-16T01:00:00.000Z');
    await put({ tenant: 'acme', from: 1.5 }, '2026-03-16T02:00:00.000Z');

    const march = await repo.usage('acme', at('2026-04-01T00:00:00Z'));
    expect(march.map((r) => [r.node, r.seq, r.receivedAt, r.lateTo])).toEqual([
      ['n1', 2, '2026-03-11T01:00:01.000Z', {}],
      ['n1', 5, '2026-03-13T01:00:00.000Z', {}],
      ['n1', 9, '2026-03-16T01:00:00.000Z', {}],
      ['n1', 10, '2026-03-16T02:00:00.000Z', {}],
      ['n2', 1, '2026-03-10T01:00:01.000Z', {}],
    ]);
    // the payload as it was stored, numbers as numbers on both
    expect(march[0]!.payload).toEqual(gpu('2026-03-11T00:00:00Z', '2026-03-11T01:00:00Z'));
    expect(typeof (march[1]!.payload as { fromMs: unknown }).fromMs).toBe('number');
    expect((await repo.usage('7', at('2027-01-01T00:00:00Z'))).map((r) => r.seq)).toEqual([8]);
    expect((await repo.usage(undefined, at('2026-03-11T00:00:00Z'))).map((r) => r.seq)).toEqual([10, 1]);
    expect(await repo.tenantsWithUsage()).toEqual(['7', 'acme', 'globex']);

    const received = await repo.receivedBetween('acme', '2026-03-13T00:00:00.000Z', '2026-03-16T01:00:00.000Z');
    expect(received.map((r) => [r.seq, r.lateTo])).toEqual([[5, {}], [6, {}]]);
    expect((await repo.receivedBetween(undefined, '2026-03-15T00:00:00.000Z', '2026-03-16T00:00:00.000Z')).map((r) => r.seq)).toEqual([7, 8]);
    // a payload that is not JSON object text comes back as stored (the checks report it)
    await db.sql.run('INSERT INTO usage_records (node, seq, payload, received_at) VALUES (?, ?, ?, ?)', ['n3', 1, '[1,2]', '2026-03-20T00:00:00.000Z']);
    expect((await repo.receivedBetween(undefined, '2026-03-20T00:00:00.000Z', '2026-03-21T00:00:00.000Z')).map((r) => [r.node, r.payload])).toEqual([['n3', [1, 2]]]);
  });

  it('assigns late time when a record arrives, as SQLite\'s trigger does: before and after closes, cut at month ends', async () => {
    const onTime = await put(gpu('2026-03-10T00:00:00Z', '2026-03-10T01:00:00Z'), '2026-03-10T01:00:01.000Z');
    await close('2026-03', '2026-04-01T01:00:00Z');
    // after March's close: March time goes to April; a run across the month end is cut, its April piece is on time
    const lateMarch = await put(gpu('2026-03-20T00:00:00Z', '2026-03-20T00:10:00Z'));
    const spanning = await put(gpu('2026-03-31T23:50:00Z', '2026-04-01T00:20:00Z'));
    const april = await put(gpu('2026-04-02T00:00:00Z', '2026-04-02T01:00:00Z'));
    await close('2026-04', '2026-05-01T01:00:00Z');
    // after two closes: March and April time both go to May; one record across three months
    const twoClosed = await put(gpu('2026-03-30T00:00:00Z', '2026-05-01T01:00:00Z'), '2026-05-01T02:00:00.000Z');
    const early = await put({ tenant: 'acme', fromMs: at('2026-04-05T00:00:00Z'), toMs: at('2026-04-05T00:10:00Z') }, '2026-05-01T02:00:00.000Z');
    // February is closed after March: its time goes to the first month open after it (May), not March
    await close('2026-02', '2026-05-02T00:00:00Z');
    const feb = await put(gpu('2026-02-10T00:00:00Z', '2026-02-10T00:10:00Z'), '2026-05-02T01:00:00.000Z');
    // nothing for what cannot be rated: not a whole number, ends before it starts, out of any date range
    for (const odd of [
      { tenant: 'acme', from: String(at('2026-03-20T00:00:00Z')), to: at('2026-03-20T00:10:00Z') },
      { tenant: 'acme', from: at('2026-03-20T00:00:00Z') + 0.5, to: at('2026-03-20T00:10:00Z') },
      { tenant: 'acme', from: at('2026-03-20T00:10:00Z'), to: at('2026-03-20T00:00:00Z') },
      { tenant: 'acme', from: 1e17, to: 1e17 + 1000 },
      { tenant: 'acme', from: -1e17, to: at('2026-03-20T00:00:00Z') },
      { tenant: 'acme', from: 1e21, to: 2e21 },
      { tenant: 'acme', from: 2 ** 63, to: 2 ** 64 },
    ]) await put(odd, '2026-05-02T01:00:00.000Z');
    // absurd but within SQLite's dates (rating refuses them; the rows must still agree): years 1900, -1 and -1199
    const ancient: number[] = [];
    for (const from of [Date.UTC(1900, 0, 1), Date.UTC(-1, 0, 15), Date.UTC(-1199, 1, 1)]) ancient.push(await put({ tenant: 'acme', from, to: at('2026-02-10T00:00:00Z') }, '2026-05-02T01:00:00.000Z'));

    expect(await late()).toEqual([
      { usage_id: lateMarch, used_month: '2026-03', invoice_month: '2026-04' },
      { usage_id: spanning, used_month: '2026-03', invoice_month: '2026-04' },
      { usage_id: twoClosed, used_month: '2026-03', invoice_month: '2026-05' },
      { usage_id: twoClosed, used_month: '2026-04', invoice_month: '2026-05' },
      { usage_id: early, used_month: '2026-04', invoice_month: '2026-05' },
      { usage_id: feb, used_month: '2026-02', invoice_month: '2026-05' },
      ...ancient.map((id) => ({ usage_id: id, used_month: '2026-02', invoice_month: '2026-05' })),
    ]);
    // billing reads the assignment with each row
    const rows = await repo.usage('acme', at('2026-06-01T00:00:00Z'));
    const lateOf = (id: number) => rows.find((r) => r.seq === id)?.lateTo;
    expect([onTime, lateMarch, spanning, april, twoClosed, feb].map(lateOf)).toEqual([
      {}, { '2026-03': '2026-04' }, { '2026-03': '2026-04' }, {}, { '2026-03': '2026-05', '2026-04': '2026-05' }, { '2026-02': '2026-05' },
    ]);
  });

  it('holds a record that arrives during a close until the close commits: it is then late, never lost', async () => {
    await put(gpu('2026-03-10T00:00:00Z', '2026-03-10T01:00:00Z'), '2026-03-10T01:00:01.000Z');
    let read!: () => void;
    const hasRead = new Promise<void>((resolve) => (read = resolve));
    let finish!: () => void;
    const mayFinish = new Promise<void>((resolve) => (finish = resolve));
    const closing = repo.closing(async (tx) => {
      const seen = (await tx.usage('acme', at('2026-04-01T00:00:00Z'))).map((r) => r.seq);
      read();
      await mayFinish;
      await tx.close('2026-03', at('2026-04-01T01:00:00Z'), 'admin', [{ tenant: 'acme', json: JSON.stringify(seen), csv: '' }]);
    });
    await hasRead;
    // March time arriving while the close runs: it waits for the close (a lock on PostgreSQL, the one connection on SQLite)
    let stored = false;
    const arriving = put(gpu('2026-03-20T00:00:00Z', '2026-03-20T00:10:00Z')).then((id) => ((stored = true), id));
    await Promise.race([arriving, new Promise((r) => setTimeout(r, 300))]);
    const storedDuringClose = stored;
    finish();
    await closing;
    expect(storedDuringClose).toBe(false);
    const id = await arriving;
    expect((await repo.frozen('acme', '2026-03'))?.json).toBe('[1]');
    expect(await late()).toEqual([{ usage_id: id, used_month: '2026-03', invoice_month: '2026-04' }]);
  });

  it('closes a month through the Invoicer: the same frozen invoice and totals as on the other backend', async () => {
    let now = at('2026-03-31T12:00:00Z');
    const invoicer = new Invoicer(repo, () => now);
    await put(gpu('2026-03-10T00:00:00Z', '2026-03-10T01:00:00Z'), '2026-03-10T01:00:01.000Z');
    await put(gpu('2026-03-11T00:00:00Z', '2026-03-11T00:30:00Z', { gpuUuid: 'GPU-9', gpuModel: null }), '2026-03-11T01:00:00.000Z');
    await put({ kind: 'resource-allocation', version: 1, key: 'n1/c/resources/1', node: 'n1', workspace: 'c', tenant: 'globex', milliVcpus: 2000, memoryBytes: 0, storageBytes: 0, from: at('2026-03-12T00:00:00Z'), to: at('2026-03-12T10:00:00Z') }, '2026-03-12T10:00:01.000Z');
    await put({ tenant: 'acme', from: 'garbage' }, '2026-03-13T00:00:00.000Z');
    await put({ from: at('2026-03-14T00:00:00Z') }, '2026-03-14T00:00:00.000Z');
    now = at('2026-04-01T01:00:00Z');
    const closed = await invoicer.close(infra, '2026-03', 'admin');
    expect(closed).toEqual({
      month: '2026-03', closedAt: '2026-04-01T01:00:00.000Z', unattributed: 1,
      invoices: [{ tenant: 'acme', total: '3.60', currency: 'EUR', alerts: 2 }, { tenant: 'globex', total: '0.24', currency: 'EUR', alerts: 0 }],
    });
    await expect(invoicer.close(infra, '2026-03', 'admin')).rejects.toThrow('month 2026-03 is already closed');
    // late March time after the close lands on April
    now = at('2026-04-02T00:00:00Z');
    await put(gpu('2026-03-20T00:00:00Z', '2026-03-20T00:10:00Z'));
    const march = await invoicer.invoice(infra, 'acme', '2026-03');
    expect(march.frozen).toBe(true);
    expect(march.invoice.totals).toEqual({ seconds: 3600, gpuSeconds: 3600, gpuHours: '1.000000', amount: '3.60', amountMinor: '360' });
    expect(march.csv.split('\r\n').slice(1, 3)).toEqual([
      'acme,2026-03,w,,2026-01-01T00:00:00Z,false,1800,0.500000,,0.00,EUR,,gpu,0.500000,GPU-hour,gpu model of GPU-9 unknown: the agent did not report it and no Node declares this GPU',
      'acme,2026-03,w,NVIDIA H100 80GB HBM3,2026-01-01T00:00:00Z,false,3600,1.000000,3.60,3.60,EUR,,gpu,1.000000,GPU-hour,',
    ]);
    expect(march.invoice.alerts?.map((a) => [a.code, a.count])).toEqual([['UNPRICED', 1], ['UNRATABLE', 1]]);
    const april = await invoicer.invoice(infra, 'acme', '2026-04');
    expect(april.invoice.lines.map((l) => [l.late, l.seconds, l.amount])).toEqual([[true, 600, '0.60']]);
    expect(await invoicer.usage(infra, 'globex', '2026-03')).toMatchObject({ frozen: true, total: '0.24', byWorkspace: { c: '0.24' } });
  });
});

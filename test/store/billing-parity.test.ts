/**
 * Property: SQLite and PostgreSQL bill the same. The same records (GPU time on priced and unpriced GPUs,
 * resource time, records that cannot be rated, two tenants) arrive in the same order on both backends,
 * with month closes in between; every invoice of every month, frozen or computed now, is then the same
 * document, to the byte of its JSON and CSV.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import fc from 'fast-check';
import { openTestSql, type TestSql } from '../support/store-backends.js';
import { postgresAvailable } from '../support/postgres.js';
import { describeIf } from '../support/requires.js';
import { SqlBillingRepo } from '../../hub/store/billing-repo.js';
import { Invoicer } from '../../hub/invoicing/invoicer.js';
import { repoOf } from '../support/infra-repo.js';

const MODEL = 'NVIDIA H100 80GB HBM3';
const JAN = Date.UTC(2026, 0, 1);
const CLOSABLE = ['2026-01', '2026-02', '2026-03', '2026-04'];
const MONTHS = [...CLOSABLE, '2026-05'];
const infra = repoOf([
  { kind: 'Tenant', metadata: { name: 'acme' }, spec: { displayName: 'ACME' } },
  { kind: 'Tenant', metadata: { name: 'globex' }, spec: {} },
  { kind: 'Node', metadata: { name: 'n1' }, spec: { profile: 'gpu-node', gpus: [{ uuid: 'GPU-1', model: MODEL }, { uuid: 'GPU-2', model: MODEL }] } },
  { kind: 'PriceList', metadata: { name: 'default' }, spec: { currency: 'EUR', periods: [
    { effectiveFrom: '2026-01-01T00:00:00Z', gpuHour: { [MODEL]: '2.49' }, vcpuHour: '0.012', memoryGiBHour: '0.004' },
    { effectiveFrom: '2026-03-15T00:00:00Z', gpuHour: { [MODEL]: '2.99' }, vcpuHour: '0.013', memoryGiBHour: '0.004' },
  ] } },
]);

/** One record: GPU time, resource time, or a record rating refuses. Seconds from January 1st. */
const record = fc.record({
  kind: fc.constantFrom('gpu', 'gpu', 'resources', 'bad'),
  tenant: fc.constantFrom('acme', 'globex'),
  ws: fc.constantFrom('w1', 'w2'),
  gpu: fc.constantFrom('GPU-1', 'GPU-2', 'GPU-3'),
  start: fc.integer({ min: 0, max: 140 * 86_400 - 1 }),
  len: fc.integer({ min: 1, max: 3 * 86_400 }),
});

function payloadOf(r: { kind: string; tenant: string; ws: string; gpu: string; start: number; len: number }): unknown {
  const from = JAN + r.start * 1000;
  const to = from + r.len * 1000;
  if (r.kind === 'bad') return { tenant: r.tenant, workspace: r.ws, from: String(from), to };
  if (r.kind === 'resources') return { kind: 'resource-allocation', version: 1, key: `n1/${r.ws}/resources/${from}`, node: 'n1', workspace: r.ws, tenant: r.tenant, milliVcpus: 1500, memoryBytes: 3 * 2 ** 30, storageBytes: 0, from, to };
  return { kind: 'gpu-allocation', version: 1, node: 'n1', workspace: r.ws, tenant: r.tenant, gpuUuid: r.gpu, gpuModel: r.gpu === 'GPU-3' ? null : MODEL, from, to };
}

describeIf(postgresAvailable(), 'PostgreSQL', 'apt-get install postgresql (or set FOUNDRY_TEST_PG_URL)')('billing parity of SQLite and PostgreSQL (property)', () => {
  const dbs: TestSql[] = [];
  beforeAll(async () => {
    dbs.push(await openTestSql('sqlite'), await openTestSql('postgres'));
  });
  afterAll(async () => {
    for (const d of dbs) await d.close();
  });

  it('renders every invoice the same on both, whatever the records and the closes between them', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(record, { minLength: 1, maxLength: 25 }),
        // where each close happens in the arrival sequence (0..1 of the way), and which months close in which order
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 4, maxLength: 4 }),
        fc.shuffledSubarray(CLOSABLE, { minLength: 0, maxLength: 4 }),
        async (records, closeAt, closeOrder) => {
          const documents: string[][] = [];
          for (const { sql } of dbs) {
            for (const table of ['usage_late', 'usage_records', 'billing_invoices', 'billing_closed_months']) await sql.run(`DELETE FROM ${table}`);
            const invoicer = new Invoicer(new SqlBillingRepo(sql), () => Date.UTC(2026, 5, 1));
            const closes = closeOrder.map((month, i) => ({ month, at: Math.floor(closeAt[i]! * records.length) })).sort((a, b) => a.at - b.at);
            let c = 0;
            for (const [i, r] of records.entries()) {
              while (c < closes.length && closes[c]!.at <= i) await invoicer.close(infra, closes[c++]!.month, 'admin');
              // received in arrival order, one minute apart, from the end of January on (a record may arrive before its time ends)
              const receivedAt = new Date(Date.UTC(2026, 0, 31) + i * 60_000 + r.start * 1000).toISOString();
              await sql.run('INSERT INTO usage_records (node, seq, payload, received_at) VALUES (?, ?, ?, ?)', ['n1', i + 1, JSON.stringify(payloadOf(r)), receivedAt]);
            }
            while (c < closes.length) await invoicer.close(infra, closes[c++]!.month, 'admin');
            const out: string[] = [];
            for (const month of MONTHS) {
              for (const tenant of ['acme', 'globex']) {
                const a = await invoicer.invoice(infra, tenant, month);
                out.push(JSON.stringify({ invoice: a.invoice, frozen: a.frozen, unpriced: a.unpriced, emptyReason: a.emptyReason }), a.csv);
              }
            }
            documents.push(out);
          }
          expect(documents[1]).toEqual(documents[0]);
        },
      ),
      { numRuns: 25 },
    );
  }, 300_000);
});

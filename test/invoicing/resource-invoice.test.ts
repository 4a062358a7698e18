/**
 * vCPU, memory and storage billing through the hub's real path: agent records (gpu-allocation and
 * resource-allocation) committed to the SQLite store, converted, coalesced, rated and invoiced by the
 * Invoicer; a closed month stays frozen and a resource record arriving after the close is billed late.
 */
import { describe, expect, it } from 'vitest';
import { HubStore } from '../../hub/store/hub-store.js';
import { Invoicer } from '../../hub/invoicing/invoicer.js';
import { repoOf } from '../support/infra-repo.js';

const H100 = 'NVIDIA H100 80GB HBM3';
const GIB = 2 ** 30;
const repo = repoOf([
  { kind: 'Tenant', metadata: { name: 'acme' }, spec: { displayName: 'ACME' } },
  { kind: 'Node', metadata: { name: 'n1' }, spec: { profile: 'gpu-node', gpus: [{ uuid: 'GPU-1', model: H100 }] } },
  { kind: 'PriceList', metadata: { name: 'default' }, spec: { currency: 'EUR', periods: [
    { effectiveFrom: '2026-01-01T00:00:00Z', gpuHour: { [H100]: '2.49' }, vcpuHour: '0.012', memoryGiBHour: '0.004', storageGiBMonth: '0.08' },
  ] } },
]);
const at = (iso: string): number => Date.parse(iso);
const gpuRec = (ws: string, from: string, to: string) => ({ kind: 'gpu-allocation', version: 1, node: 'n1', workspace: ws, tenant: 'acme', gpuUuid: 'GPU-1', gpuModel: H100, from: at(from), to: at(to) });
const resRec = (ws: string, from: string, to: string, held: { milliVcpus: number; memoryBytes: number; storageBytes: number }) =>
  ({ kind: 'resource-allocation', version: 1, key: `n1/${ws}/resources/${at(from)}`, node: 'n1', workspace: ws, tenant: 'acme', ...held, from: at(from), to: at(to) });

describe('hub invoice with vCPU, memory and storage lines', () => {
  it('bills GPU and resource records of the month, a CPU-only workspace too, and bills late resource time in the next open month', async () => {
    let now = at('2026-03-31T12:00:00Z');
    const store = new HubStore(':memory:', { now: () => new Date(now) });
    try {
      let seq = 0;
      const put = async (payload: unknown): Promise<void> => { await store.ingest([{ node: 'n1', seq: ++seq, kind: 'usage', payload }]); };
      await put(gpuRec('gpu-ws', '2026-03-01T00:00:00Z', '2026-03-01T02:00:00Z'));
      // 10 s records, as the agent sends them, and a resend of one under a new seq
      for (let s = 0; s < 7200; s += 10) await put(resRec('gpu-ws', new Date(at('2026-03-01T00:00:00Z') + s * 1000).toISOString(), new Date(at('2026-03-01T00:00:10Z') + s * 1000).toISOString(), { milliVcpus: 4000, memoryBytes: 32 * GIB, storageBytes: 0 }));
      await put(resRec('gpu-ws', '2026-03-01T00:00:00Z', '2026-03-01T00:00:10Z', { milliVcpus: 4000, memoryBytes: 32 * GIB, storageBytes: 0 }));
      await put(resRec('cpu-ws', '2026-03-10T00:00:00Z', '2026-03-20T00:00:00Z', { milliVcpus: 2000, memoryBytes: 8 * GIB, storageBytes: 40 * GIB }));

      const invoicer = new Invoicer(store.billing, () => now);
      const march = await invoicer.invoice(repo, 'acme', '2026-03');
      expect(march.invoice.lines.map((l) => [l.workspace, l.resource, l.seconds, l.quantity, l.unit, l.unitPrice, l.amount])).toEqual([
        ['cpu-ws', 'vcpu', 864_000, '480.000000', 'vCPU-hour', '0.012', '5.76'],
        ['cpu-ws', 'memory', 864_000, '1920.000000', 'GiB-hour', '0.004', '7.68'],
        // 40 GiB for 10 of the 30 days of a GiB-month: 13.333333 GiB-months × 0.08 = 1.0666… → 1.07
        ['cpu-ws', 'storage', 864_000, '13.333333', 'GiB-month', '0.08', '1.07'],
        ['gpu-ws', 'gpu', 7200, '2.000000', 'GPU-hour', '2.49', '4.98'],
        ['gpu-ws', 'vcpu', 7200, '8.000000', 'vCPU-hour', '0.012', '0.10'],
        ['gpu-ws', 'memory', 7200, '64.000000', 'GiB-hour', '0.004', '0.26'],
      ]);
      expect(march.invoice.totals).toEqual({ seconds: 7200, gpuSeconds: 7200, gpuHours: '2.000000', amount: '19.85', amountMinor: '1985' });
      expect(march.csv.split('\r\n')[1]).toBe('acme,2026-03,cpu-ws,,2026-01-01T00:00:00Z,false,864000,0.000000,0.012,5.76,EUR,,vcpu,480.000000,vCPU-hour,');
      expect(await invoicer.usage(repo, 'acme', '2026-03')).toMatchObject({ total: '19.85', byWorkspace: { 'cpu-ws': '14.51', 'gpu-ws': '5.34' }, seconds: 7200 });

      now = at('2026-04-01T06:00:00Z');
      expect((await invoicer.close(repo, '2026-03', 'admin')).invoices).toEqual([{ tenant: 'acme', total: '19.85', currency: 'EUR', alerts: 0 }]);
      // after the close: a resend of billed time costs nothing, new March time moves to April, marked late
      now = at('2026-04-02T00:00:00Z');
      await put(resRec('cpu-ws', '2026-03-10T00:00:00Z', '2026-03-20T00:00:00Z', { milliVcpus: 2000, memoryBytes: 8 * GIB, storageBytes: 40 * GIB }));
      await put(resRec('cpu-ws', '2026-03-31T00:00:00Z', '2026-03-31T01:00:00Z', { milliVcpus: 1000, memoryBytes: 0, storageBytes: 0 }));
      const frozen = await invoicer.invoice(repo, 'acme', '2026-03');
      expect(frozen.frozen).toBe(true);
      expect(frozen.invoice.totals.amount).toBe('19.85');
      expect(await invoicer.usage(repo, 'acme', '2026-03')).toMatchObject({ frozen: true, total: '19.85', byWorkspace: { 'cpu-ws': '14.51', 'gpu-ws': '5.34' } });
      const april = (await invoicer.invoice(repo, 'acme', '2026-04')).invoice;
      expect(april.lines.map((l) => [l.workspace, l.resource, l.late, l.seconds, l.quantity, l.amount])).toEqual([['cpu-ws', 'vcpu', true, 3600, '1.000000', '0.01']]);
    } finally {
      await store.close();
    }
  });
});

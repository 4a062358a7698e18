/**
 * An empty invoice says why, through the hub's real path (usage in SQLite → Invoicer): unknown tenant,
 * no price list, nothing running in the month, or what ran has no price; a closed month too. And the
 * totals name what they count: GPU seconds only, beside vCPU lines with their own quantity.
 */
import { describe, expect, it } from 'vitest';
import { HubStore } from '../../hub/store/hub-store.js';
import { Invoicer } from '../../hub/invoicing/invoicer.js';
import { repoOf } from '../support/infra-repo.js';

const H100 = 'NVIDIA H100 80GB HBM3';
const at = (iso: string): number => Date.parse(iso);
const tenant = (name: string, priceList?: string) => ({ kind: 'Tenant', metadata: { name }, spec: priceList === undefined ? {} : { priceList } });
const node = { kind: 'Node', metadata: { name: 'n1' }, spec: { profile: 'gpu-node', gpus: [{ uuid: 'GPU-1', model: H100 }] } };
const prices = (period: Record<string, unknown>) => ({ kind: 'PriceList', metadata: { name: 'default' }, spec: { currency: 'EUR', periods: [{ effectiveFrom: '2026-01-01T00:00:00Z', gpuHour: {}, ...period }] } });
const resRec = (ws: string, t: string, from: string, to: string) =>
  ({ kind: 'resource-allocation', version: 1, key: `n1/${ws}/resources/${at(from)}`, node: 'n1', workspace: ws, tenant: t, milliVcpus: 2000, memoryBytes: 0, storageBytes: 0, from: at(from), to: at(to) });

async function withInvoicer(fn: (invoicer: Invoicer, put: (payload: unknown) => void, setNow: (iso: string) => void) => Promise<void>): Promise<void> {
  let now = at('2026-03-31T12:00:00Z');
  const store = new HubStore(':memory:', { now: () => new Date(now) });
  try {
    let seq = 0;
    await fn(new Invoicer(store.billing, () => now), (payload) => void store.ingest([{ node: 'n1', seq: ++seq, kind: 'usage', payload }]), (iso) => (now = at(iso)));
  } finally {
    await store.close();
  }
}

describe('an empty invoice says why', () => {
  it('names an undeclared tenant, a missing price list, a month with nothing running, and usage nothing prices', async () => {
    await withInvoicer(async (invoicer, put) => {
      const priced = repoOf([tenant('acme'), tenant('globex', 'special'), node, prices({ gpuHour: { [H100]: '2.49' } })]);
      expect((await invoicer.invoice(priced, 'initech', '2026-03')).emptyReason).toBe('tenant initech is not declared in the infra repo');
      expect((await invoicer.invoice(priced, 'globex', '2026-03')).emptyReason).toBe('no price list applies: tenant globex names price list special, which does not exist');
      expect((await invoicer.invoice(repoOf([tenant('acme'), node]), 'acme', '2026-03')).emptyReason).toBe('no price list applies: tenant acme names none and there is no price list "default"');
      expect((await invoicer.invoice(priced, 'acme', '2026-03')).emptyReason).toBe('no running workspace of acme was measured in 2026-03: only running workspaces are billed, for the time their node reported');
      // a CPU-only workspace ran, but the price list prices GPUs only
      put(resRec('cpu-ws', 'acme', '2026-03-10T00:00:00Z', '2026-03-10T01:00:00Z'));
      const r = await invoicer.invoice(priced, 'acme', '2026-03');
      expect(r.invoice.lines).toEqual([]);
      expect(r.emptyReason).toBe('workspaces of acme ran in 2026-03, but price list default prices nothing they held (a missing price means that resource is free)');
      // the usage of another month does not count for this one
      expect((await invoicer.invoice(priced, 'acme', '2026-02')).emptyReason).toMatch(/^no running workspace of acme was measured in 2026-02/);
    });
  });

  it('says a closed month billed nothing, and an invoice with lines has no reason', async () => {
    await withInvoicer(async (invoicer, put, setNow) => {
      const repo = repoOf([tenant('acme'), node, prices({ vcpuHour: '0.012' })]);
      put(resRec('cpu-ws', 'acme', '2026-03-10T00:00:00Z', '2026-03-10T01:00:00Z'));
      const r = await invoicer.invoice(repo, 'acme', '2026-03');
      expect(r.emptyReason).toBeUndefined();
      // GPU seconds only: the vCPU line's hour is its own quantity, not GPU time.
      expect(r.invoice.lines.map((l) => [l.resource, l.seconds, l.quantity, l.unit])).toEqual([['vcpu', 3600, '2.000000', 'vCPU-hour']]);
      expect(r.invoice.totals).toMatchObject({ gpuSeconds: 0, seconds: 0, gpuHours: '0.000000', amount: '0.02' });
      setNow('2026-04-01T06:00:00Z');
      await invoicer.close(repo, '2026-03', 'admin');
      expect(await invoicer.invoice(repo, 'globex', '2026-03')).toMatchObject({ frozen: true, emptyReason: 'month 2026-03 was closed with nothing billed to globex' });
    });
  });
});

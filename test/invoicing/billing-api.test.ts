import { it, expect, beforeAll, afterAll } from 'vitest';
import { fleetFiles, gpuUuid } from '../workspaces/git-fixture.js';
import { startWsHub, type WsHub } from '../workspaces/hub-fixture.js';
import { describeIfBuilt } from '../support/requires.js';

const describeBuilt = describeIfBuilt('dist/hub/git/pre-receive-hook.js');
const H100 = 'NVIDIA H100 80GB HBM3';
const T = (iso: string): number => Date.parse(iso);

let hub: WsHub;
let seq = 0;

/** Stores a usage record as the gateway does (node gpu-01). */
async function usage(workspace: string, tenant: string, gpu: number, from: string, to: string, opts: { model?: string | null; seq?: number; util?: number } = {}): Promise<void> {
  const fromMs = T(from);
  const toMs = T(to);
  const s = opts.seq ?? ++seq;
  await hub.store.ingest([{ node: 'gpu-01', seq: s, kind: 'usage', payload: {
    kind: 'gpu-allocation', version: 1, key: `gpu-01/${workspace}/${gpuUuid('gpu-01', gpu)}/${fromMs}`, node: 'gpu-01', workspace, tenant,
    gpuUuid: gpuUuid('gpu-01', gpu), gpuModel: opts.model === undefined ? H100 : opts.model, from: fromMs, to: toMs, fromIso: from, toIso: to, seconds: (toMs - fromMs) / 1000,
    measuredAvgUtilizationPct: opts.util ?? null, measuredSamples: opts.util === undefined ? 0 : 1,
  } }]);
}

beforeAll(async () => {
  hub = await startWsHub(fleetFiles({ nodes: 1, gpus: 2, acmeQuota: 3 }));
  // acme-a: one hour on 2026-01-10 in 10-minute records, one delivered twice (same seq) and one re-sent with a new seq
  for (let i = 0; i < 6; i++) await usage('acme-a', 'acme', 0, `2026-01-10T00:${i}0:00Z`, new Date(T(`2026-01-10T00:${i}0:00Z`) + 600_000).toISOString(), { util: 50 });
  await usage('acme-a', 'acme', 0, '2026-01-10T00:00:00Z', '2026-01-10T00:10:00Z', { seq: 1 });
  await usage('acme-a', 'acme', 0, '2026-01-10T00:10:00Z', '2026-01-10T00:20:00Z');
  // acme-b: across the month end, model unknown to the agent (the Node file declares it)
  await usage('acme-b', 'acme', 1, '2026-01-31T23:30:00Z', '2026-02-01T00:30:00Z', { model: null });
  // globex: half an hour: 2.49 / 2 = 1.245 → 1.25 (half up, once per line)
  await usage('globex-x', 'globex', 1, '2026-01-12T00:00:00Z', '2026-01-12T00:30:00Z');
  // globex: a model the price list does not price (an agent reports it; no Node file declares it) in December
  await usage('globex-x', 'globex', 1, '2025-12-12T00:00:00Z', '2025-12-12T01:00:00Z', { model: 'NVIDIA B200' });
}, 60_000);
afterAll(async () => hub?.close());

describeBuilt('billing API', () => {
  it('rates stored usage into the tenant\'s invoice: duplicates once, month cut at the second, model from the Node file', async () => {
    const r = await hub.call('GET', '/api/v1/tenants/acme/invoices/2026-01', { tenant: 'acme' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ tenant: 'acme', displayName: 'ACME', month: '2026-01', currency: 'EUR', frozen: false, unpriced: [] });
    expect(r.json.lines).toEqual([
      { workspace: 'acme-a', resource: 'gpu', gpuModel: H100, periodFrom: '2026-01-01T00:00:00Z', late: false, seconds: 3600, gpuHours: '1.000000', quantity: '1.000000', unit: 'GPU-hour', unitPrice: '2.49', amount: '2.49', measuredUtilization: { label: 'measured utilization (not billed)', percent: 50 } },
      { workspace: 'acme-b', resource: 'gpu', gpuModel: H100, periodFrom: '2026-01-01T00:00:00Z', late: false, seconds: 1800, gpuHours: '0.500000', quantity: '0.500000', unit: 'GPU-hour', unitPrice: '2.49', amount: '1.25', measuredUtilization: null },
    ]);
    expect(r.json.totals).toEqual({ seconds: 5400, gpuSeconds: 5400, gpuHours: '1.500000', amount: '3.74', amountMinor: '374' });
    const feb = await hub.call('GET', '/api/v1/tenants/acme/invoices/2026-02');
    expect(feb.json.lines.map((l: { workspace: string; seconds: number }) => [l.workspace, l.seconds])).toEqual([['acme-b', 1800]]);
  });

  it('renders CSV for ?format=csv and for Accept: text/csv', async () => {
    const a = await hub.call('GET', '/api/v1/tenants/globex/invoices/2026-01?format=csv', { tenant: 'globex' });
    expect(a.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(a.text).toBe(
      'tenant,month,workspace,gpu_model,price_period_from,late,seconds,gpu_hours,unit_price,amount,currency,measured_utilization_percent_not_billed,resource,quantity,unit,unpriced\r\n' +
        'globex,2026-01,globex-x,NVIDIA H100 80GB HBM3,2026-01-01T00:00:00Z,false,1800,0.500000,2.49,1.25,EUR,,gpu,0.500000,GPU-hour,\r\n',
    );
    const b = await hub.call('GET', '/api/v1/tenants/globex/invoices/2026-01', { headers: { accept: 'text/csv' } });
    expect(b.text).toBe(a.text);
  });

  it('shows GPU time without a price as an unpriced line (never a refused invoice); the alert only to admins', async () => {
    const why = 'no price before the first period of price list default (2026-01-01T00:00:00Z)';
    const asTenant = await hub.call('GET', '/api/v1/tenants/globex/invoices/2025-12', { tenant: 'globex' });
    expect(asTenant.status).toBe(200);
    expect(asTenant.json.lines).toEqual([
      { workspace: 'globex-x', resource: 'gpu', gpuModel: 'NVIDIA B200', periodFrom: '', late: false, seconds: 3600, gpuHours: '1.000000', quantity: '1.000000', unit: 'GPU-hour', unitPrice: '', amount: '0.00', measuredUtilization: null, unpriced: why },
    ]);
    expect(asTenant.json.unpriced).toEqual([{ workspace: 'globex-x', gpuModel: 'NVIDIA B200', late: false, seconds: 3600, reason: why }]);
    expect(asTenant.json.alerts).toBeUndefined();
    const asAdmin = await hub.call('GET', '/api/v1/tenants/globex/invoices/2025-12');
    expect(asAdmin.json.alerts).toEqual([{ code: 'UNPRICED', count: 1, message: '1 line of GPU time without a price (amount 0): add the price to the price list' }]);
    expect((await hub.call('GET', '/api/v1/tenants/globex/usage?month=2025-12', { tenant: 'globex' })).json).toMatchObject({ total: '0.00', unpriced: 1 });
    // counted once for admins' alerting, however often the invoice is read
    expect((await hub.call('GET', '/metrics')).text).toContain('foundry_hub_billing_alerts_total{code="UNPRICED"} 1\n');
  });

  it('refuses a tenant asking for another tenant\'s invoices or usage, and bad months', async () => {
    expect((await hub.call('GET', '/api/v1/tenants/globex/invoices/2026-01', { tenant: 'acme' })).status).toBe(403);
    expect((await hub.call('GET', '/api/v1/tenants/globex/usage?month=2026-01', { tenant: 'acme' })).status).toBe(403);
    expect((await hub.call('GET', '/api/v1/tenants/acme/invoices/2026-01', { anonymous: true })).status).toBe(401);
    expect((await hub.call('GET', '/api/v1/tenants/acme/invoices/2026-13')).status).toBe(400);
    expect((await hub.call('POST', '/api/v1/billing/months/2026-01/close', { tenant: 'acme' })).status).toBe(403);
  });

  it('shows the running cost per workspace with the quota', async () => {
    const r = await hub.call('GET', '/api/v1/tenants/acme/usage?month=2026-01', { tenant: 'acme' });
    expect(r.json).toMatchObject({ tenant: 'acme', month: '2026-01', frozen: false, currency: 'EUR', total: '3.74', byWorkspace: { 'acme-a': '2.49', 'acme-b': '1.25' }, seconds: 5400, quota: { maxGpus: 3, gpusHeld: 0 }, unpriced: 0 });
  });

  it('closes a finished month: its invoice is frozen, late records go to the next open month marked late', async () => {
    expect((await hub.call('POST', '/api/v1/billing/months/2099-01/close')).status).toBe(409);
    const c = await hub.call('POST', '/api/v1/billing/months/2026-01/close');
    expect(c.status).toBe(200);
    expect(c.json.invoices).toEqual([{ tenant: 'acme', total: '3.74', currency: 'EUR', alerts: 0 }, { tenant: 'globex', total: '1.25', currency: 'EUR', alerts: 0 }]);
    expect((await hub.call('POST', '/api/v1/billing/months/2026-01/close')).json.message).toBe('month 2026-01 is already closed');
    await new Promise((r) => setTimeout(r, 5));
    // an agent that was offline delivers ten minutes of January now
    await usage('acme-a', 'acme', 0, '2026-01-20T00:00:00Z', '2026-01-20T00:10:00Z');
    const jan = await hub.call('GET', '/api/v1/tenants/acme/invoices/2026-01');
    expect(jan.json.frozen).toBe(true);
    expect(jan.json.totals.amount).toBe('3.74');
    const feb = await hub.call('GET', '/api/v1/tenants/acme/invoices/2026-02');
    expect(feb.json.lines.map((l: { workspace: string; late: boolean; seconds: number; amount: string }) => [l.workspace, l.late, l.seconds, l.amount])).toEqual([
      ['acme-a', true, 600, '0.42'],
      ['acme-b', false, 1800, '1.25'],
    ]);
    expect((await hub.call('GET', '/api/v1/billing/months')).json.closed.map((m: { month: string }) => m.month)).toEqual(['2026-01']);
    expect((await hub.store.auditLog()).filter((a) => a.action === 'billing.month.close')).toEqual([{ actor: 'admin:test-admin', action: 'billing.month.close', target: '2026-01' }]);
  });
});

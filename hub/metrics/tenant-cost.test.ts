import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { loadInfraDir } from '../../common/infra/load.js';
import type { InfraRepo } from '../../common/infra/model.js';
import { fleetFiles, gpuUuid, writeFiles } from '../../test/workspaces/git-fixture.js';
import { samples, sampleValue } from '../../test/support/prom-text.js';
import { snapshotFromInfra } from '../scheduler/from-infra.js';
import type { NodeRow } from '../store/hub-store.js';
import { FleetMetrics, type FleetSources } from './fleet-metrics.js';
import { tenantCostPerHour, tenantMonthToDate } from './tenant-cost.js';

const H100 = 'NVIDIA H100 80GB HBM3';
const ws = (name: string, tenant: string, node: string, uuids: string[], extra = ''): string =>
  `apiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: ${name}\nspec:\n  tenant: ${tenant}\n  template: tiny\n  node: ${node}\n${extra}  gpus:\n    count: ${uuids.length}\n    uuids: [${uuids.join(', ')}]\n`;

describe('tenant costs and the fleet gauges (a real infra repo)', () => {
  let dir: string;
  let repo: InfraRepo;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fc-tenant-cost-'));
    const files = fleetFiles({ nodes: 2, gpus: 2 });
    files['pricing-gold.yaml'] = 'apiVersion: foundry.cloud/v1\nkind: PriceList\nmetadata:\n  name: gold\nspec:\n  currency: CHF\n  periods:\n    - effectiveFrom: "2026-01-01T00:00:00Z"\n      gpuHour:\n        NVIDIA H100 80GB HBM3: "3.00"\n';
    files['tenants/initech.yaml'] = 'apiVersion: foundry.cloud/v1\nkind: Tenant\nmetadata:\n  name: initech\nspec:\n  displayName: Initech\n  priceList: gold\n';
    files['workspaces/acme/acme-a.yaml'] = ws('acme-a', 'acme', 'gpu-01', [gpuUuid('gpu-01', 0), gpuUuid('gpu-01', 1)]);
    files['workspaces/acme/acme-stopped.yaml'] = ws('acme-stopped', 'acme', 'gpu-02', [gpuUuid('gpu-02', 0)], '  state: stopped\n');
    files['workspaces/globex/globex-b.yaml'] = ws('globex-b', 'globex', 'gpu-02', [gpuUuid('gpu-02', 1)]);
    writeFiles(dir, files);
    repo = await loadInfraDir(dir, { revision: 'test' });
    expect(repo.issues).toEqual([]);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('cost per hour: the GPUs of running placed workspaces at the price valid now, in the tenant\'s currency; a stopped workspace costs nothing', () => {
    const snapshot = snapshotFromInfra(repo, new Map());
    // H100: 2.49 until July 2026, 2.19 after
    expect(tenantCostPerHour(repo, snapshot, Date.parse('2026-03-01T00:00:00Z'))).toEqual([
      { tenant: 'acme', currency: 'EUR', amount: 4.98 },
      { tenant: 'globex', currency: 'EUR', amount: 2.49 },
      { tenant: 'initech', currency: 'CHF', amount: 0 },
    ]);
    expect(tenantCostPerHour(repo, snapshot, Date.parse('2026-12-08T00:00:00Z'))).toEqual([
      { tenant: 'acme', currency: 'EUR', amount: 4.38 },
      { tenant: 'globex', currency: 'EUR', amount: 2.19 },
      { tenant: 'initech', currency: 'CHF', amount: 0 },
    ]);
  });

  it('month to date: each tenant as its invoice says; a tenant whose invoice cannot be computed is left out', async () => {
    const asked: string[] = [];
    const costs = await tenantMonthToDate(repo, '2026-12', (_repo, tenant, month) => {
      asked.push(`${tenant} ${month}`);
      if (tenant === 'initech') throw new Error('price list gold not found');
      return { currency: 'EUR', totals: { amount: tenant === 'acme' ? '12.34' : '0.00' } };
    });
    expect(asked).toEqual(['acme 2026-12', 'globex 2026-12', 'initech 2026-12']);
    expect(costs).toEqual([{ tenant: 'acme', currency: 'EUR', amount: 12.34 }, { tenant: 'globex', currency: 'EUR', amount: 0 }]);
  });

  it('FleetMetrics: one view per scrape within its lifetime, month to date kept 60 s, series that are gone disappear', async () => {
    let now = Date.parse('2026-12-08T00:00:00Z');
    let invoices = 0;
    let repoReads = 0;
    let connected = ['gpu-01'];
    const rows: NodeRow[] = ['gpu-01', 'gpu-02'].map((name) => ({ name, status: 'x', lastSeenAt: '2026-12-07T00:00:00Z', agentVersion: null, appliedRevision: null, revoked: false, ageRecipient: null }));
    const sources: FleetSources = {
      nodes: () => rows,
      connected: () => connected,
      repo: async () => { repoReads++; return repo; },
      // gpu-02's second GPU reported unhealthy: it is held by globex-b, so it counts as allocated
      snapshot: (r) => snapshotFromInfra(r, new Map([
        ['gpu-01', { online: true, gpus: [{ uuid: gpuUuid('gpu-01', 0), model: H100, healthy: true }, { uuid: gpuUuid('gpu-01', 1), model: H100, healthy: true }] }],
        ['gpu-02', { online: false, gpus: [{ uuid: gpuUuid('gpu-02', 0), model: H100, healthy: true }, { uuid: gpuUuid('gpu-02', 1), model: H100, healthy: false }] }],
      ])),
      usage: () => [{ tenant: 'acme', workspace: 'acme-a', receivedSec: 1_000 }, { tenant: 'acme', workspace: 'acme-deleted', receivedSec: 900 }],
      invoiceOf: () => { invoices++; return { currency: 'EUR', totals: { amount: `${invoices}.00` } }; },
    };
    const registry = new Registry();
    new FleetMetrics(registry, sources, { now: () => now });
    let t = await registry.metrics();
    expect(repoReads).toBe(1);
    expect(sampleValue(t, 'foundry_hub_node_connected', { node: 'gpu-01' })).toBe(1);
    expect(sampleValue(t, 'foundry_hub_node_connected', { node: 'gpu-02' })).toBe(0);
    expect(sampleValue(t, 'foundry_hub_node_last_seen_timestamp_seconds', { node: 'gpu-01' })).toBe(now / 1000);
    expect(sampleValue(t, 'foundry_hub_gpus', { node: 'gpu-01', state: 'allocated' })).toBe(2);
    expect(sampleValue(t, 'foundry_hub_gpus', { node: 'gpu-02', state: 'allocated' })).toBe(2);
    expect(sampleValue(t, 'foundry_hub_gpus', { node: 'gpu-02', state: 'free' })).toBe(0);
    expect(sampleValue(t, 'foundry_hub_workspace_gpus', { tenant: 'acme', workspace: 'acme-a', node: 'gpu-01', state: 'running' })).toBe(2);
    expect(sampleValue(t, 'foundry_hub_workspace_gpus', { workspace: 'acme-stopped', state: 'stopped' })).toBe(1);
    expect(samples(t, 'foundry_hub_workspace_last_usage_timestamp_seconds')).toEqual([{ name: 'foundry_hub_workspace_last_usage_timestamp_seconds', labels: { tenant: 'acme', workspace: 'acme-a' }, value: 1_000 }]);
    expect(sampleValue(t, 'foundry_hub_tenant_cost_per_hour', { tenant: 'acme', currency: 'EUR' })).toBe(4.38);
    expect(sampleValue(t, 'foundry_hub_tenant_month_to_date_cost', { tenant: 'acme', currency: 'EUR' })).toBe(1);
    expect(invoices).toBe(3);

    // within the view's 5 s: the same view, nothing read again
    connected = [];
    now += 4_000;
    t = await registry.metrics();
    expect(repoReads).toBe(1);
    expect(sampleValue(t, 'foundry_hub_node_connected', { node: 'gpu-01' })).toBe(1);
    // a new view: gpu-01 is gone; month to date is still the one of 6 s ago
    now += 2_000;
    t = await registry.metrics();
    expect(repoReads).toBe(2);
    expect(sampleValue(t, 'foundry_hub_node_connected', { node: 'gpu-01' })).toBe(0);
    expect(invoices).toBe(3);
    // a minute later month to date is recomputed
    now += 60_000;
    t = await registry.metrics();
    expect(invoices).toBe(6);
    expect(sampleValue(t, 'foundry_hub_tenant_month_to_date_cost', { tenant: 'acme', currency: 'EUR' })).toBe(4);
  });

  it('a hub without an infra repo (or one that cannot be read) shows the node series only', async () => {
    const errors: unknown[] = [];
    const registry = new Registry();
    new FleetMetrics(registry, {
      nodes: () => [{ name: 'n', status: 'x', lastSeenAt: null, agentVersion: null, appliedRevision: null, revoked: false, ageRecipient: null }],
      connected: () => [],
      repo: async () => { throw new Error('git: tip unreadable'); },
      snapshot: () => { throw new Error('not called'); },
      usage: () => [{ tenant: 'acme', workspace: 'acme-a', receivedSec: 5 }],
      onError: (err) => errors.push(err),
    });
    const t = await registry.metrics();
    expect(sampleValue(t, 'foundry_hub_node_connected', { node: 'n' })).toBe(0);
    expect(samples(t, 'foundry_hub_gpus')).toEqual([]);
    expect(sampleValue(t, 'foundry_hub_workspace_last_usage_timestamp_seconds', { workspace: 'acme-a' })).toBe(5);
    expect(errors).toHaveLength(1);
  });
});

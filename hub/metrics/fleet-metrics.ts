/**
 * The hub's fleet gauges, filled at scrape time: nodes connected and last seen, GPUs free, allocated and
 * unhealthy per node and model, GPUs per workspace, each workspace's last usage receipt, and each
 * tenant's cost per hour and month to date. One view serves every gauge of a scrape and is kept for
 * `ttlMs` (a scrape reads the store, the repo's tip and the scheduler's snapshot once); month to date
 * rates the month's usage and is recomputed at most every `costTtlMs`. Names: docs/metrics.md.
 */
import { Gauge, type Registry } from 'prom-client';
import type { InfraRepo } from '../../common/infra/model.js';
import { monthOf } from '../billing/usage.js';
import type { FleetSnapshot } from '../scheduler/snapshot.js';
import type { NodeRow } from '../store/hub-store.js';
import { gpuCounts, nodeSeries, workspaceGpus, type GpuCount, type NodeSeries, type WorkspaceGpus } from './fleet-series.js';
import { tenantCostPerHour, tenantMonthToDate, type InvoiceOf, type TenantCost } from './tenant-cost.js';
import type { UsageReceipt } from './usage-receipts.js';

/** Where the fleet gauges read from (the app wires the store, the gateway, the repo and the invoicer). */
export interface FleetSources {
  nodes(): readonly NodeRow[] | Promise<readonly NodeRow[]>;
  connected(): Iterable<string>;
  /** The infra repo at the branch tip; absent on a hub without one (then only the node series exist). */
  repo?: () => Promise<InfraRepo>;
  /** The scheduler's fleet snapshot of `repo` (live GPUs and their health included). */
  snapshot(repo: InfraRepo): FleetSnapshot | Promise<FleetSnapshot>;
  /** Newest usage receipt per workspace (UsageReceipts). */
  usage(): Promise<UsageReceipt[]> | UsageReceipt[];
  /** The current month's invoice of a tenant (Invoicer); absent: no month-to-date series. */
  invoiceOf?: InvoiceOf;
  /** Told when the repo cannot be read (the repo-based series are then left out of that scrape). */
  onError?: (err: unknown) => void;
}

/** What one scrape shows. */
interface FleetView {
  nodes: NodeSeries[];
  gpus: GpuCount[];
  workspaces: WorkspaceGpus[];
  lastUsage: UsageReceipt[];
  costPerHour: TenantCost[];
  monthToDate: TenantCost[];
}

/** Options: cache lifetimes and the clock. */
export interface FleetMetricsOptions {
  /** How long one view serves scrapes (default 5 s). */
  ttlMs?: number;
  /** How long month to date is kept (default 60 s). */
  costTtlMs?: number;
  now?: () => number;
}

/** Registers the fleet gauges in `registry`. */
export class FleetMetrics {
  private readonly ttlMs: number;
  private readonly costTtlMs: number;
  private readonly now: () => number;
  private cached: { at: number; view: Promise<FleetView> } | undefined;
  private mtd: { at: number; month: string; costs: TenantCost[] } | undefined;

  constructor(registry: Registry, private readonly sources: FleetSources, options: FleetMetricsOptions = {}) {
    this.ttlMs = options.ttlMs ?? 5_000;
    this.costTtlMs = options.costTtlMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.gauge(registry, 'foundry_hub_node_connected', 'Whether the agent of each enrolled, non-revoked node is connected now (1) or not (0).', ['node'], (set, v) => {
      for (const n of v.nodes) set({ node: n.node }, n.connected);
    });
    this.gauge(registry, 'foundry_hub_node_last_seen_timestamp_seconds', 'Unix time the hub last heard from each node (now while connected); absent for a node that never connected.', ['node'], (set, v) => {
      for (const n of v.nodes) if (n.lastSeenSec !== undefined) set({ node: n.node }, n.lastSeenSec);
    });
    this.gauge(registry, 'foundry_hub_gpus', 'GPUs per node and model by state: allocated (held by a placed workspace), unhealthy (held by none, reported unhealthy), free.', ['node', 'model', 'state'], (set, v) => {
      for (const g of v.gpus) set({ node: g.node, model: g.model, state: g.state }, g.count);
    });
    this.gauge(registry, 'foundry_hub_workspace_gpus', 'GPUs placed for each workspace (Git: spec.node and spec.gpus.uuids); state: running or stopped (Git spec.state; a stopped workspace keeps its GPUs and sends no usage).', ['tenant', 'workspace', 'node', 'state'], (set, v) => {
      for (const w of v.workspaces) set({ tenant: w.tenant, workspace: w.workspace, node: w.node, state: w.state }, w.gpus);
    });
    this.gauge(registry, 'foundry_hub_workspace_last_usage_timestamp_seconds', 'Unix time the hub received the newest usage record of each workspace; absent before the first.', ['tenant', 'workspace'], (set, v) => {
      for (const u of v.lastUsage) set({ tenant: u.tenant, workspace: u.workspace }, u.receivedSec);
    });
    this.gauge(registry, 'foundry_hub_tenant_cost_per_hour', 'What the GPUs of each tenant\'s running placed workspaces cost per hour at its price list valid now, in its currency.', ['tenant', 'currency'], (set, v) => {
      for (const c of v.costPerHour) set({ tenant: c.tenant, currency: c.currency }, c.amount);
    });
    this.gauge(registry, 'foundry_hub_tenant_month_to_date_cost', 'Each tenant\'s amount for the current month so far as its invoice says it, in its currency (recomputed at most every 60 s).', ['tenant', 'currency'], (set, v) => {
      for (const c of v.monthToDate) set({ tenant: c.tenant, currency: c.currency }, c.amount);
    });
  }

  /** A gauge whose series are replaced with `fill`'s at every scrape (series that are gone disappear). */
  private gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: L[], fill: (set: (labels: Record<L, string>, value: number) => void, view: FleetView) => void): void {
    const view = (): Promise<FleetView> => this.view();
    new Gauge<L>({
      name, help, labelNames, registers: [registry],
      async collect() {
        const v = await view();
        this.reset();
        fill((labels, value) => this.set(labels as never, value), v);
      },
    });
  }

  /** The view of this scrape: the cached one while it is fresh. */
  private view(): Promise<FleetView> {
    const now = this.now();
    if (this.cached === undefined || now - this.cached.at >= this.ttlMs) this.cached = { at: now, view: this.build(now) };
    return this.cached.view;
  }

  private async build(now: number): Promise<FleetView> {
    const nodes = nodeSeries(await this.sources.nodes(), new Set(this.sources.connected()), now);
    const usage = await this.sources.usage();
    let repo: InfraRepo | undefined;
    try {
      repo = await this.sources.repo?.();
    } catch (err) {
      this.sources.onError?.(err);
    }
    if (repo === undefined) return { nodes, gpus: [], workspaces: [], lastUsage: usage, costPerHour: [], monthToDate: [] };
    const snapshot = await this.sources.snapshot(repo);
    // Workspaces deleted from Git drop out (their series would otherwise stay for the hub's lifetime).
    const lastUsage = usage.filter((u) => repo.workspaces.has(u.workspace));
    return { nodes, gpus: gpuCounts(snapshot), workspaces: workspaceGpus(snapshot, (w) => (repo.workspaces.get(w)?.doc.spec.state === 'stopped' ? 'stopped' : 'running')), lastUsage, costPerHour: tenantCostPerHour(repo, snapshot, now), monthToDate: await this.monthToDate(repo, now) };
  }

  private async monthToDate(repo: InfraRepo, now: number): Promise<TenantCost[]> {
    const invoiceOf = this.sources.invoiceOf;
    if (invoiceOf === undefined) return [];
    const month = monthOf(Math.floor(now / 1000));
    if (this.mtd === undefined || this.mtd.month !== month || now - this.mtd.at >= this.costTtlMs) this.mtd = { at: now, month, costs: await tenantMonthToDate(repo, month, invoiceOf) };
    return this.mtd.costs;
  }
}

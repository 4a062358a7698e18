/**
 * Read-only aggregate endpoints of the dashboard (admins only): the overview (nodes by profile and state,
 * GPU counts, fleet utilization of the last hour, storage, alerts with refused usage of the last 24 h), every node with its GPUs and
 * sparklines, node enrollment states, and the audit log. Plus the live-update stream /api/v1/events.
 */
import type { FastifyInstance } from 'fastify';
import type { InfraRepo } from '../../common/infra/model.js';
import { requirePrincipal } from '../auth/principal.js';
import { countByProfile, fleetView, storageSummary, type Alert, type FleetInput } from '../dashboard/fleet-view.js';
import { refusalsSince, type RecentRefusals } from '../usage/refusals.js';
import type { HubServices } from '../services.js';

/** Options of the overview routes. */
export interface OverviewRouteOptions {
  now?: () => number;
}

type Json = Record<string, unknown>;
const DAY_MS = 86_400_000;

/** One warning per node whose usage records were refused in the last 24 h, with the count per reason. */
function refusalAlerts(recent: readonly RecentRefusals[]): Alert[] {
  return recent.map((r) => ({
    severity: 'warning',
    kind: 'usage-refused',
    node: r.node,
    message: `${r.node}: ${r.total} usage record${r.total === 1 ? '' : 's'} refused in the last 24 h, not billed (${Object.entries(r.byReason).map(([k, n]) => `${k} ${n}`).join(', ')}); see Billing, Refused usage`,
  }));
}
const parse = <T>(s: string | null | undefined): T | undefined => (s === null || s === undefined ? undefined : (JSON.parse(s) as T));

/** Registers the overview, nodes, audit and events routes over the hub's live events. */
export function overviewRoutes(app: FastifyInstance, services: HubServices, opts: OverviewRouteOptions = {}): void {
  const { store, gateway, gitops, live, gpuHistory: history } = services;
  const reads = store.overview;
  const now = opts.now ?? Date.now;
  const admin = requirePrincipal(app, { role: 'admin' });
  const anyone = requirePrincipal(app);

  // The repo at the tip when the hub has one; otherwise enrollment data only.
  const repo = async (): Promise<InfraRepo | undefined> => {
    if (gitops === undefined) return undefined;
    try {
      return await gitops.workspaces.repo();
    } catch (err) {
      app.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'dashboard: infra repo unavailable');
      return undefined;
    }
  };

  const input = async (): Promise<FleetInput> => {
    const inventory = new Map((await reads.nodeInventories()).map((r) => [r.name, parse<Json>(r.inventory) ?? null]));
    const enrolled = await reads.enrollments();
    return {
      nodes: (await store.nodes()).map((n) => ({ ...n, inventory: (inventory.get(n.name) ?? null) as FleetInput['nodes'][number]['inventory'] })),
      connected: new Set(gateway.connectedNodes()),
      enrollments: new Map(enrolled.map((e) => [e.node, { profile: e.profile, labels: parse<Record<string, string>>(e.labels) ?? {} }])),
      statuses: new Map((await reads.nodeStatuses()).map((r) => [r.node, JSON.parse(r.payload) as never])),
      telemetry: new Map((await reads.telemetryLatest()).map((r) => [r.node, JSON.parse(r.payload) as never])),
      repo: await repo(),
      now: now(),
    };
  };

  app.get('/api/v1/overview', { preHandler: admin }, async () => {
    const view = fleetView(await input());
    const since = Math.floor((now() - 3600_000) / 60_000);
    const util = await reads.utilizationSince(since);
    const ceph = view.nodes.filter((n) => n.profile === 'ceph-node');
    const recent = await refusalsSince(store.usage, new Date(now() - DAY_MS).toISOString());
    return {
      nodes: { total: view.nodes.length, byProfile: countByProfile(view.nodes) },
      gpus: view.gpus,
      utilization: { unit: 'percent, measured', points: util.filter((u) => u.samples > 0).map((u) => [u.minute * 60, Math.round((u.sum / u.samples) * 10) / 10]) },
      // Ceph nodes (profile reportsStorage) send storage capacity with their telemetry.
      storage: { cephNodes: ceph.length, ...storageSummary(view.nodes) },
      alerts: [...view.alerts, ...refusalAlerts(recent)],
      // Usage records the admission gate refused in the last 24 h (listed on the Billing page for admins).
      usageRefused: { last24h: recent.reduce((a, r) => a + r.total, 0) },
    };
  });

  app.get('/api/v1/fleet/nodes', { preHandler: admin }, async () => {
    await live.feedHistory();
    const view = fleetView(await input());
    return {
      nodes: view.nodes.map((n) => ({ ...n, gpus: n.gpus.map((g) => ({ ...g, history: history.points(n.name, g.uuid).map((p) => [Math.round(p.at / 1000), p.util, p.memMiB, p.powerW, p.tempC]) })) })),
    };
  });

  app.get('/api/v1/fleet/enrollments', { preHandler: admin }, async () => {
    const rows = await reads.enrollments();
    const enrolled = new Map(rows.map((r) => [r.node, { tokenId: r.tokenId, hostname: r.hostname, profile: r.profile, labels: parse<Record<string, string>>(r.labels) ?? {}, enrolledAt: r.enrolledAt }]));
    const connected = new Set(gateway.connectedNodes());
    return {
      nodes: (await store.nodes()).map((n) => ({
        name: n.name,
        state: n.revoked ? 'revoked' : n.status === 'never-seen' ? 'pending' : 'active',
        connected: connected.has(n.name),
        lastSeenAt: n.lastSeenAt,
        enrollment: enrolled.get(n.name) ?? null,
      })),
    };
  });

  app.get<{ Querystring: { limit?: number; before?: number } }>(
    '/api/v1/audit',
    { onRequest: admin, schema: { querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 500 }, before: { type: 'integer', minimum: 1 } } } } },
    async (req) => {
      const rows = await reads.auditPage(req.query.before ?? Number.MAX_SAFE_INTEGER, req.query.limit ?? 100);
      return {
        entries: rows.map((r) => {
          const details = parse<Json>(r.details) ?? {};
          const { ip, ...rest } = details;
          return { id: r.id, at: r.at, actor: r.actor, action: r.action, target: r.target, ip: typeof ip === 'string' ? ip : null, details: rest };
        }),
      };
    },
  );

  // What the create and billing forms offer: tenants the caller may see, templates, GPU models in the fleet.
  app.get('/api/v1/catalog', { preHandler: anyone }, async (req) => {
    const p = req.principal;
    const r = await repo();
    const tenants = [...(r?.tenants.values() ?? [])].map(({ doc }): { name: string; displayName: string | null } => ({ name: doc.metadata.name, displayName: doc.spec.displayName ?? null })).filter((t) => p?.role === 'admin' || t.name === p?.tenant);
    if (p?.role === 'tenant' && p.tenant !== undefined && !tenants.some((t) => t.name === p.tenant)) tenants.push({ name: p.tenant, displayName: null });
    const models = new Set<string>();
    for (const { doc } of r?.nodes.values() ?? []) for (const g of doc.spec.gpus ?? []) models.add(g.model);
    for (const row of await reads.nodeInventories()) {
      for (const g of parse<{ gpus?: Array<{ model?: string | null }> }>(row.inventory)?.gpus ?? []) if (typeof g.model === 'string') models.add(g.model);
    }
    return { tenants: tenants.sort((a, b) => a.name.localeCompare(b.name)), templates: [...(r?.templates.keys() ?? [])].sort(), gpuModels: [...models].sort() };
  });

  app.get('/api/v1/events', { preHandler: anyone }, async (_req, reply) => {
    reply.hijack();
    live.attach(reply.raw);
  });
}

/**
 * The dashboard's fleet view, pure: from the store's node rows, what agents reported (hello inventory,
 * latest status and telemetry), the infra repo at the tip (profile, labels, drain, GPUs held by
 * workspaces) and who is connected now, it derives each node's state, its GPUs and the alerts.
 */
import type { InfraRepo } from '../../common/infra/model.js';

/** A condition as agents report it. */
export interface Condition { type: string; status: string; reason: string; message?: string; lastTransitionTime?: string }

/** What the view is built from. */
export interface FleetInput {
  nodes: Array<{ name: string; status: string; lastSeenAt: string | null; agentVersion: string | null; appliedRevision: string | null; revoked: boolean; inventory: { gpus?: Array<{ uuid: string; model?: string | null; memoryTotalMiB?: number | null }> } | null }>;
  connected: ReadonlySet<string>;
  enrollments: ReadonlyMap<string, { profile: string; labels: Record<string, string> }>;
  statuses: ReadonlyMap<string, { conditions?: Condition[]; resources?: Array<{ id: string; kind?: string; workspace?: string; service?: string; conditions: Condition[] }>; lastAppliedRevision?: string | null; observedRevision?: string | null }>;
  telemetry: ReadonlyMap<string, { at: number; gpus: Array<{ uuid: string; utilizationGpuPct: number | null; memoryUsedMiB: number | null; memoryTotalMiB: number | null; powerDrawW?: number | null; temperatureC?: number | null; health?: { state: string; problems: string[] } }>; storage?: StorageSample }>;
  repo: InfraRepo | undefined;
  now: number;
}

/** Storage capacity as a Ceph node reports it in telemetry (bytes). */
export interface StorageSample {
  source: 'ceph' | 'mounts';
  totalBytes: number;
  usedBytes: number;
  availableBytes: number;
  pools?: Array<{ name: string; storedBytes: number | null; maxAvailableBytes: number | null }>;
  error?: string;
}

/**
 * A node's state on the overview. online: connected and nothing wrong; degraded: connected but not
 * Ready, stalled, with GPUs not reporting or with an unhealthy GPU; offline: connected before, not now; never-connected:
 * declared in Git or enrolled, but no agent ever connected; draining: drain set in Git.
 */
export type NodeState = 'online' | 'degraded' | 'offline' | 'never-connected' | 'draining';

/** Every state, in the order the overview lists them. */
export const NODE_STATES: readonly NodeState[] = ['online', 'degraded', 'offline', 'never-connected', 'draining'];

/** A GPU's health as the agent last reported it; unknown when it sent none (older agents, or no sample yet). */
export interface GpuHealthView { state: 'healthy' | 'degraded' | 'unhealthy' | 'unknown'; problems: string[] }

/** One GPU as the Nodes page shows it. */
export interface GpuView { uuid: string; model: string | null; utilizationPct: number | null; memoryUsedMiB: number | null; memoryTotalMiB: number | null; powerW: number | null; temperatureC: number | null; workspace: string | null; error: string | null; health: GpuHealthView }

/** One node as the dashboard shows it. */
export interface NodeView {
  name: string; profile: string | null; labels: Record<string, string>; state: NodeState; connected: boolean; agentVersion: string | null; lastSeenAt: string | null;
  /** The agent's Ready condition as it reported it (null: none reported), apart from the connection. */
  ready: Condition | null;
  /** desired: the repo tip; applied: the last revision the agent applied completely; observed: the last one it worked on. */
  desiredRevision: string | null; appliedRevision: string | null; observedRevision: string | null; conditions: Condition[]; resources: Array<{ id: string; kind?: string; workspace?: string; service?: string; conditions: Condition[] }>; gpus: GpuView[]; reasons: string[];
  /** Storage capacity from the node's recent telemetry (Ceph nodes); null when none or stale. */
  storage: (StorageSample & { at: number }) | null;
}

/** Storage capacity over the fleet, for the overview. */
export interface StorageSummary {
  reported: boolean;
  /** ceph: cluster totals from `ceph df` (the newest report; every Ceph node sees the same cluster); mounts: sum of nodes' mount fallbacks. */
  source: 'ceph' | 'mounts' | null;
  totalBytes: number | null;
  usedBytes: number | null;
  availableBytes: number | null;
  pools: NonNullable<StorageSample['pools']>;
  /** Nodes that reported storage recently. */
  nodes: string[];
  /** Nodes whose `ceph df` failed (they reported the mount fallback), with why. */
  errors: Array<{ node: string; error: string }>;
}

/** An alert on the overview. */
export interface Alert { severity: 'critical' | 'warning'; kind: 'node-offline' | 'reconcile-stalled' | 'gpu-error' | 'gpu-unhealthy' | 'runtime-capability' | 'usage-refused'; node: string; message: string }

/** GPUs counted over the fleet. */
export interface GpuCounts { total: number; allocated: number; free: number; busy: number }

/** Utilization (measured) above which a GPU counts as busy. */
export const BUSY_PCT = 10;
// Telemetry older than this says nothing about now.
const STALE_MS = 120_000;

// The latest report, however old: it is what the scheduler acts on (hub/workspaces/live-fleet.ts).
function healthOf(h: { state: string; problems: string[] } | undefined): GpuHealthView {
  const state = h?.state;
  return state === 'healthy' || state === 'degraded' || state === 'unhealthy' ? { state, problems: [...(h?.problems ?? [])] } : { state: 'unknown', problems: [] };
}

const isTrue = (cs: readonly Condition[] | undefined, type: string): Condition | undefined => cs?.find((c) => c.type === type && c.status === 'True');

/** GPUs held by placed workspaces: uuid → workspace. */
export function gpuHolders(repo: InfraRepo | undefined): Map<string, string> {
  const held = new Map<string, string>();
  for (const { doc } of repo?.workspaces.values() ?? []) for (const u of doc.spec.gpus?.uuids ?? []) held.set(u, doc.metadata.name);
  return held;
}

/** Builds the view of every (non-revoked) node. */
export function fleetView(input: FleetInput): { nodes: NodeView[]; gpus: GpuCounts; alerts: Alert[] } {
  const holders = gpuHolders(input.repo);
  const alerts: Alert[] = [];
  const gpus: GpuCounts = { total: 0, allocated: 0, free: 0, busy: 0 };
  const rows = input.nodes.filter((n) => !n.revoked);
  // Nodes declared in Git that no agent has enrolled as yet: the scheduler counts them, so do we.
  const known = new Set(input.nodes.map((n) => n.name));
  for (const name of input.repo?.nodes.keys() ?? []) {
    if (!known.has(name)) rows.push({ name, status: 'never-seen', lastSeenAt: null, agentVersion: null, appliedRevision: null, revoked: false, inventory: null });
  }
  const nodes = rows.map((n): NodeView => {
    const doc = input.repo?.nodes.get(n.name)?.doc;
    const enrolled = input.enrollments.get(n.name);
    const status = input.statuses.get(n.name);
    const tele = input.telemetry.get(n.name);
    const connected = input.connected.has(n.name);
    // Samples of a node that is gone say nothing about now, however recent.
    const fresh = connected && tele !== undefined && input.now - tele.at < STALE_MS ? tele : undefined;
    const reasons: string[] = [];
    const declared = new Map((doc?.spec.gpus ?? []).map((g) => [g.uuid, g.model]));
    const inventory = n.inventory?.gpus ?? [];
    const uuids = inventory.length > 0 ? inventory.map((g) => g.uuid) : [...declared.keys()];
    const gpuViews = uuids.map((uuid): GpuView => {
      const inv = inventory.find((g) => g.uuid === uuid);
      const t = fresh?.gpus.find((g) => g.uuid === uuid);
      const error = !connected ? null : t === undefined ? 'no recent sample (nvidia-smi not answering or gpu lost)' : null;
      const health = healthOf(tele?.gpus.find((g) => g.uuid === uuid)?.health);
      return { uuid, model: inv?.model ?? declared.get(uuid) ?? null, utilizationPct: t?.utilizationGpuPct ?? null, memoryUsedMiB: t?.memoryUsedMiB ?? null, memoryTotalMiB: t?.memoryTotalMiB ?? inv?.memoryTotalMiB ?? null, powerW: t?.powerDrawW ?? null, temperatureC: t?.temperatureC ?? null, workspace: holders.get(uuid) ?? null, error, health };
    });
    const stalled = [isTrue(status?.conditions, 'Stalled'), ...(status?.resources ?? []).map((r) => (isTrue(r.conditions, 'Stalled') === undefined ? undefined : { ...isTrue(r.conditions, 'Stalled'), id: r.id }))].filter((c) => c !== undefined);
    // Runtime conditions (e.g. PodmanCapabilities False: no pause binary, no name resolution): the node cannot serve workspaces fully.
    const runtimeProblems = connected ? (status?.conditions ?? []).filter((c) => !['Ready', 'Reconciling', 'Stalled'].includes(c.type) && c.status === 'False') : [];
    const neverConnected = !connected && n.lastSeenAt === null;
    if (!connected) reasons.push(neverConnected ? (known.has(n.name) ? 'never connected' : 'never connected: declared in Git, no agent enrolled') : 'agent not connected');
    // Connected is not ready: an agent reports Ready=False (e.g. RuntimeUnavailable) while its link is up.
    const ready = status?.conditions?.find((c) => c.type === 'Ready') ?? null;
    const notReady = connected && ready !== null && ready.status === 'False';
    if (notReady) reasons.push(`not ready: ${ready.reason}`);
    // A refused prune says what was kept and how to allow it (spec.allowMassPrune): shown with it.
    for (const c of stalled) reasons.push(`stalled: ${'id' in c ? `${String(c.id)} ` : ''}${c.reason ?? ''}${c.reason === 'PruneRefused' && c.message ? ` (${c.message})` : ''}`.trim());
    for (const c of runtimeProblems) reasons.push(`${c.type}: ${c.reason}`);
    const gpuErrors = gpuViews.filter((g) => g.error !== null);
    if (gpuErrors.length > 0) reasons.push(`${gpuErrors.length} gpu${gpuErrors.length === 1 ? '' : 's'} not reporting`);
    const unhealthy = gpuViews.filter((g) => g.health.state === 'unhealthy');
    if (unhealthy.length > 0) reasons.push(`${unhealthy.length} gpu${unhealthy.length === 1 ? '' : 's'} unhealthy (${[...new Set(unhealthy.flatMap((g) => g.health.problems))].join(', ')})`);
    const state: NodeState = doc?.spec.drain === true ? 'draining' : neverConnected ? 'never-connected' : !connected ? 'offline' : notReady || stalled.length > 0 || gpuErrors.length > 0 || unhealthy.length > 0 || runtimeProblems.length > 0 ? 'degraded' : 'online';
    if (!connected && n.lastSeenAt !== null) alerts.push({ severity: 'critical', kind: 'node-offline', node: n.name, message: `${n.name} is offline since ${n.lastSeenAt}` });
    if (stalled.length > 0) alerts.push({ severity: 'warning', kind: 'reconcile-stalled', node: n.name, message: `${n.name}: reconcile stalled (${stalled.map((c) => ('id' in c ? `${String(c.id)}: ${c.reason ?? ''}` : (c.reason ?? ''))).join('; ')})` });
    for (const c of runtimeProblems) alerts.push({ severity: 'warning', kind: 'runtime-capability', node: n.name, message: `${n.name}: ${c.type} ${c.reason}${c.message ? ` (${c.message})` : ''}` });
    for (const g of gpuErrors) alerts.push({ severity: 'warning', kind: 'gpu-error', node: n.name, message: `${n.name} ${g.uuid}: ${g.error ?? ''}` });
    for (const g of unhealthy) alerts.push({ severity: 'critical', kind: 'gpu-unhealthy', node: n.name, message: `${n.name} ${g.uuid}: unhealthy (${g.health.problems.join(', ')}); not offered to new workspaces${g.workspace !== null ? `, ${g.workspace} still runs on it` : ''}` });
    for (const g of gpuViews) {
      gpus.total += 1;
      if (g.workspace !== null) gpus.allocated += 1;
      if ((g.utilizationPct ?? 0) >= BUSY_PCT) gpus.busy += 1;
    }
    return {
      name: n.name,
      profile: doc?.spec.profile ?? enrolled?.profile ?? null,
      labels: { ...(enrolled?.labels ?? {}), ...(doc?.metadata.labels ?? {}), ...(doc?.spec.labels ?? {}) },
      state,
      connected,
      agentVersion: n.agentVersion,
      lastSeenAt: n.lastSeenAt,
      ready,
      desiredRevision: input.repo?.revision ?? null,
      appliedRevision: status?.lastAppliedRevision ?? n.appliedRevision,
      observedRevision: status?.observedRevision ?? null,
      conditions: status?.conditions ?? [],
      resources: status?.resources ?? [],
      gpus: gpuViews,
      reasons,
      storage: fresh?.storage === undefined ? null : { ...fresh.storage, at: fresh.at },
    };
  });
  gpus.free = gpus.total - gpus.allocated;
  return { nodes, gpus, alerts };
}

/**
 * Fleet storage from the nodes' recent reports. `ceph df` gives cluster-wide totals, identical on every
 * Ceph node, so they are taken once (newest report), never summed; mount fallbacks are per node and summed.
 */
export function storageSummary(nodes: readonly NodeView[]): StorageSummary {
  const reports = nodes.flatMap((n) => (n.storage === null ? [] : [{ node: n.name, ...n.storage }]));
  const errors = reports.flatMap((r) => (r.error === undefined ? [] : [{ node: r.node, error: r.error }]));
  const names = reports.map((r) => r.node);
  const ceph = reports.filter((r) => r.source === 'ceph').sort((a, b) => b.at - a.at)[0];
  if (ceph !== undefined) return { reported: true, source: 'ceph', totalBytes: ceph.totalBytes, usedBytes: ceph.usedBytes, availableBytes: ceph.availableBytes, pools: ceph.pools ?? [], nodes: names, errors };
  const mounts = reports.filter((r) => r.source === 'mounts' && r.totalBytes > 0);
  if (mounts.length === 0) return { reported: false, source: null, totalBytes: null, usedBytes: null, availableBytes: null, pools: [], nodes: names, errors };
  const sum = (k: 'totalBytes' | 'usedBytes' | 'availableBytes'): number => mounts.reduce((a, r) => a + r[k], 0);
  return { reported: true, source: 'mounts', totalBytes: sum('totalBytes'), usedBytes: sum('usedBytes'), availableBytes: sum('availableBytes'), pools: [], nodes: names, errors };
}

/** Nodes counted by profile and state. */
export function countByProfile(nodes: readonly NodeView[]): Record<string, Record<NodeState, number>> {
  const out: Record<string, Record<NodeState, number>> = {};
  for (const n of nodes) {
    const p = (out[n.profile ?? 'unknown'] ??= Object.fromEntries(NODE_STATES.map((s) => [s, 0])) as Record<NodeState, number>);
    p[n.state] += 1;
  }
  return out;
}

/**
 * The fleet gauges' values, pure: from the store's node rows, who is connected, and the scheduler's fleet
 * snapshot (Git and the agents' live view, GPU health included) they compute the series of
 * foundry_hub_node_*, foundry_hub_gpus and foundry_hub_workspace_gpus. No I/O: fleet-metrics.ts reads the inputs.
 */
import type { NodeRow } from '../store/hub-store.js';
import type { FleetSnapshot } from '../scheduler/snapshot.js';

/** One node's connection series. */
export interface NodeSeries {
  node: string;
  connected: 0 | 1;
  /** Unix seconds the hub last heard from it (now while connected); undefined when it never connected. */
  lastSeenSec: number | undefined;
}

/** A GPU's state in foundry_hub_gpus: held by a workspace, else unhealthy or free. */
export type GpuState = 'free' | 'allocated' | 'unhealthy';

/** GPUs of one node and model in one state. */
export interface GpuCount {
  node: string;
  model: string;
  state: GpuState;
  count: number;
}

/** GPUs placed for one workspace on one node. */
export interface WorkspaceGpus {
  tenant: string;
  workspace: string;
  node: string;
  /** Git's spec.state: a stopped workspace keeps its GPUs and sends no usage. */
  state: 'running' | 'stopped';
  gpus: number;
}

/** Every enrolled node that is not revoked: connected now or not, and when it was last seen. */
export function nodeSeries(rows: readonly NodeRow[], connected: ReadonlySet<string>, nowMs: number): NodeSeries[] {
  return rows.filter((r) => !r.revoked).map((r) => {
    const on = connected.has(r.name);
    const seen = r.lastSeenAt === null ? NaN : Date.parse(r.lastSeenAt);
    const lastSeenSec = on ? Math.floor(nowMs / 1000) : Number.isFinite(seen) ? Math.floor(seen / 1000) : undefined;
    return { node: r.name, connected: on ? 1 : 0, lastSeenSec };
  });
}

/**
 * GPUs per node, model and state. A GPU a placed workspace holds is allocated (healthy or not: the
 * workspace still has it); one nobody holds is unhealthy when the snapshot says so, else free. Each
 * node and model has all three states (0 included), so the sum is the node's GPU count.
 */
export function gpuCounts(snapshot: FleetSnapshot): GpuCount[] {
  const held = new Set(snapshot.allocations.flatMap((a) => a.gpuUuids.map((u) => `${a.node}\u0000${u}`)));
  const out: GpuCount[] = [];
  for (const node of snapshot.nodes) {
    const byModel = new Map<string, Record<GpuState, number>>();
    for (const g of node.gpus) {
      const c = byModel.get(g.model) ?? { free: 0, allocated: 0, unhealthy: 0 };
      byModel.set(g.model, c);
      if (held.has(`${node.name}\u0000${g.uuid}`)) c.allocated++;
      else if (!g.healthy) c.unhealthy++;
      else c.free++;
    }
    for (const [model, c] of [...byModel].sort(([a], [b]) => a.localeCompare(b))) {
      for (const state of ['free', 'allocated', 'unhealthy'] as const) out.push({ node: node.name, model, state, count: c[state] });
    }
  }
  return out;
}

/** GPUs placed for each workspace that holds any (from Git: spec.node and spec.gpus.uuids), with its state (`stateOf`, default running). */
export function workspaceGpus(snapshot: FleetSnapshot, stateOf: (workspace: string) => 'running' | 'stopped' = () => 'running'): WorkspaceGpus[] {
  return snapshot.allocations
    .filter((a) => a.gpuUuids.length > 0)
    .map((a) => ({ tenant: a.tenant, workspace: a.workspace, node: a.node, state: stateOf(a.workspace), gpus: a.gpuUuids.length }))
    .sort((a, b) => a.workspace.localeCompare(b.workspace));
}

/**
 * The read-only fleet snapshot placement decides on, and FleetState, its index (free GPUs per node and
 * model, free CPU and memory, GPUs held per tenant). The hub builds the snapshot from Git (nodes,
 * profiles, workspaces with node and GPU UUIDs, tenants) and the agents' live inventory and health.
 */
import type { Placement } from './placement.js';

/** One GPU of a node as the agent reports it. */
export interface GpuSnapshot {
  uuid: string;
  /** nvidia-smi's name, e.g. "NVIDIA H100 80GB HBM3". */
  model: string;
  /** False when the agent reports it unhealthy (uncorrected ECC, pending row remap, fallen off the bus...): never offered. */
  healthy: boolean;
  /** The agent's problem codes for an unhealthy GPU (docs/gpu-health.md), for refusal reasons. */
  problems?: readonly string[];
}

/** One node: from Git (profile, labels, drain, reservations) and the agent (online, capacity, GPUs). */
export interface NodeSnapshot {
  name: string;
  profile: string;
  /** The profile's hostsWorkspaces. */
  hostsWorkspaces: boolean;
  labels: Readonly<Record<string, string>>;
  drain: boolean;
  /** The agent is connected and its heartbeat is fresh. */
  online: boolean;
  /** Total cores and memory (agent inventory, else Node.spec.capacity); Infinity when unknown. */
  capacity: { cpus: number; memoryBytes: number };
  /** Kept for the system (Node.spec.reservations). */
  reservations: { cpus: number; memoryBytes: number };
  /** In nvidia-smi index order (PCI bus order). */
  gpus: readonly GpuSnapshot[];
}

/** A workspace that holds resources on a node (from Git: spec.node and spec.gpus.uuids). */
export interface AllocationSnapshot {
  workspace: string;
  tenant: string;
  node: string;
  gpuUuids: readonly string[];
  cpus: number;
  memoryBytes: number;
}

/** A tenant's quota (Tenant.spec.quota.maxGpus; undefined = no limit). */
export interface TenantSnapshot {
  name: string;
  maxGpus?: number;
}

/** Everything placement looks at. */
export interface FleetSnapshot {
  nodes: readonly NodeSnapshot[];
  allocations: readonly AllocationSnapshot[];
  tenants: readonly TenantSnapshot[];
}

/** A node with what is still free on it. */
export interface NodeState {
  node: NodeSnapshot;
  freeCpus: number;
  freeMemoryBytes: number;
  /** Free healthy GPU UUIDs by model, each list in the node's GPU order. */
  freeByModel: Map<string, string[]>;
  /** Distinct GPU models of the node, sorted by name (ties between models go to the first name). */
  models: string[];
  freeGpus: number;
  /** Unhealthy GPUs nobody holds, in the node's GPU order: what placement would have had without them. */
  unhealthy: GpuSnapshot[];
}

/** The indexed, mutable view of a snapshot: the PlacementQueue applies placements to it as they are committed. */
export class FleetState {
  /** Nodes sorted by name (the deterministic tie-break order). */
  readonly nodes: NodeState[];
  /** Nodes that may take workspaces at all (profile hosts them, online, not draining), in name order. */
  readonly open: NodeState[];
  /** Nodes ruled out for any request, counted once per snapshot: by profile, offline, draining. */
  readonly closed: { byProfile: Map<string, number>; offline: number; draining: number };
  readonly byName = new Map<string, NodeState>();
  readonly allocations = new Map<string, AllocationSnapshot>();
  readonly tenantGpus = new Map<string, number>();
  readonly quotas = new Map<string, number | undefined>();

  constructor(snapshot: FleetSnapshot) {
    const held = new Set<string>();
    for (const a of snapshot.allocations) for (const u of a.gpuUuids) held.add(u);
    this.nodes = [...snapshot.nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((node) => {
      const freeByModel = new Map<string, string[]>();
      let freeGpus = 0;
      for (const g of node.gpus) {
        if (!g.healthy || held.has(g.uuid)) continue;
        const list = freeByModel.get(g.model) ?? [];
        list.push(g.uuid);
        freeByModel.set(g.model, list);
        freeGpus++;
      }
      const st: NodeState = {
        node,
        freeCpus: node.capacity.cpus - node.reservations.cpus,
        freeMemoryBytes: node.capacity.memoryBytes - node.reservations.memoryBytes,
        freeByModel,
        models: [...new Set(node.gpus.map((g) => g.model))].sort(),
        freeGpus,
        unhealthy: node.gpus.filter((g) => !g.healthy && !held.has(g.uuid)),
      };
      this.byName.set(node.name, st);
      return st;
    });
    this.open = [];
    this.closed = { byProfile: new Map(), offline: 0, draining: 0 };
    for (const st of this.nodes) {
      const n = st.node;
      if (!n.hostsWorkspaces) this.closed.byProfile.set(n.profile, (this.closed.byProfile.get(n.profile) ?? 0) + 1);
      else if (!n.online) this.closed.offline++;
      else if (n.drain) this.closed.draining++;
      else this.open.push(st);
    }
    for (const t of snapshot.tenants) this.quotas.set(t.name, t.maxGpus);
    for (const a of snapshot.allocations) this.hold(a, false);
  }

  /** GPUs a tenant holds now. */
  gpusHeldBy(tenant: string): number {
    return this.tenantGpus.get(tenant) ?? 0;
  }

  /** Records a committed placement: its GPUs, CPU and memory are no longer free. */
  apply(p: Placement): void {
    this.hold({ workspace: p.workspace, tenant: p.tenant, node: p.node, gpuUuids: p.gpuUuids, cpus: p.cpus, memoryBytes: p.memoryBytes }, true);
  }

  /** Frees what a workspace held (deleted or moved away). */
  release(workspace: string): void {
    const a = this.allocations.get(workspace);
    if (a === undefined) return;
    this.allocations.delete(workspace);
    this.tenantGpus.set(a.tenant, this.gpusHeldBy(a.tenant) - a.gpuUuids.length);
    const st = this.byName.get(a.node);
    if (st === undefined) return;
    st.freeCpus += a.cpus;
    st.freeMemoryBytes += a.memoryBytes;
    const mine = new Set(a.gpuUuids);
    for (const model of new Set(st.node.gpus.filter((g) => mine.has(g.uuid) && g.healthy).map((g) => g.model))) {
      const free = new Set(st.freeByModel.get(model) ?? []);
      // rebuilt in the node's GPU order so that later picks stay deterministic
      const list = st.node.gpus.filter((g) => g.model === model && g.healthy && (free.has(g.uuid) || mine.has(g.uuid))).map((g) => g.uuid);
      st.freeGpus += list.length - free.size;
      st.freeByModel.set(model, list);
    }
  }

  private hold(a: AllocationSnapshot, removeFree: boolean): void {
    this.allocations.set(a.workspace, a);
    this.tenantGpus.set(a.tenant, this.gpusHeldBy(a.tenant) + a.gpuUuids.length);
    const st = this.byName.get(a.node);
    if (st === undefined) return;
    st.freeCpus -= a.cpus;
    st.freeMemoryBytes -= a.memoryBytes;
    if (!removeFree) return;
    const taken = new Set(a.gpuUuids);
    for (const [model, list] of st.freeByModel) {
      const left = list.filter((u) => !taken.has(u));
      st.freeGpus -= list.length - left.length;
      st.freeByModel.set(model, left);
    }
  }
}

const states = new WeakMap<FleetSnapshot, FleetState>();

/** The index of a snapshot, built once per snapshot object (snapshots are read-only, so caching is safe). */
export function indexSnapshot(snapshot: FleetSnapshot): FleetState {
  let st = states.get(snapshot);
  if (st === undefined) {
    st = new FleetState(snapshot);
    states.set(snapshot, st);
  }
  return st;
}

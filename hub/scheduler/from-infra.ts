/**
 * Builds what placement needs from the loaded infra repo plus what the agents report: the fleet
 * snapshot, and a placement request from a Workspace document. Pure; the hub supplies the live view.
 */
import type { InfraRepo, Workspace } from '../../common/infra/model.js';
import { profileFlag } from '../../common/infra/profile-chain.js';
import { parseQuantity } from '../../common/units.js';
import type { PlacementRequest } from './place.js';
import type { AllocationSnapshot, FleetSnapshot, GpuSnapshot, NodeSnapshot } from './snapshot.js';

/** What the hub knows about a node from its agent (absent: never connected). */
export interface LiveNode {
  online: boolean;
  cpus?: number;
  memoryBytes?: number;
  /** The agent's GPU inventory, in nvidia-smi index order. */
  gpus?: GpuSnapshot[];
  /** Each GPU's health from the node's latest telemetry (by UUID); a GPU without one is unknown, so placeable. */
  gpuHealth?: ReadonlyMap<string, { state: string; problems: readonly string[] }>;
}

/** A GPU with the health its node last reported: only `unhealthy` keeps it from being offered. */
function withHealth(g: GpuSnapshot, health: LiveNode['gpuHealth']): GpuSnapshot {
  const h = health?.get(g.uuid);
  return h?.state === 'unhealthy' ? { ...g, healthy: false, problems: [...h.problems] } : g;
}

/**
 * CPU cores and memory bytes a workspace's template takes from its node: the sum over its containers and
 * its libvirt VM. An OpenStack VM runs on Nova's hosts, not on the node, so it takes none (the same rule as
 * the agent's declaredResources, which bills what runs on the node; test/scheduler/declared-resources.test.ts).
 */
export function templateResources(repo: InfraRepo, template: string): { cpus: number; memoryBytes: number } {
  const t = repo.templates.get(template)?.doc;
  let cpus = 0;
  let memoryBytes = 0;
  for (const c of t?.spec.containers ?? []) {
    cpus += c.resources?.cpus ?? 0;
    memoryBytes += c.resources?.memory === undefined ? 0 : parseQuantity(c.resources.memory);
  }
  const vm = t?.spec.vm;
  if (vm !== undefined && vm.driver !== 'openstack') {
    cpus += vm.vcpus ?? 0;
    memoryBytes += vm.memory === undefined ? 0 : parseQuantity(vm.memory);
  }
  return { cpus, memoryBytes };
}

/** The fleet snapshot: nodes from Git with the agents' live view, allocations from placed workspaces, tenants' quotas. */
export function snapshotFromInfra(repo: InfraRepo, live: ReadonlyMap<string, LiveNode>): FleetSnapshot {
  const nodes: NodeSnapshot[] = [...repo.nodes.values()].map(({ doc }) => {
    const l = live.get(doc.metadata.name);
    const spec = doc.spec;
    return {
      name: doc.metadata.name,
      profile: spec.profile,
      hostsWorkspaces: profileFlag(repo, spec.profile, 'hostsWorkspaces') ?? false,
      labels: spec.labels ?? {},
      drain: spec.drain === true,
      online: l?.online === true,
      capacity: {
        cpus: l?.cpus ?? spec.capacity?.cpus ?? Infinity,
        memoryBytes: l?.memoryBytes ?? (spec.capacity?.memory === undefined ? Infinity : parseQuantity(spec.capacity.memory)),
      },
      reservations: { cpus: spec.reservations?.cpus ?? 0, memoryBytes: spec.reservations?.memory === undefined ? 0 : parseQuantity(spec.reservations.memory) },
      // Git's list bounds what may be claimed (Node.spec.gpus): live GPUs outside it, or on a node that
      // lists none, are not offered (validation refuses such claims too)
      gpus: (l?.gpus ?? (spec.gpus ?? []).map((g) => ({ uuid: g.uuid, model: g.model, healthy: true }))).filter(
        (g) => spec.gpus !== undefined && spec.gpus.some((d) => d.uuid === g.uuid),
      ).map((g) => withHealth(g, l?.gpuHealth)),
    };
  });
  const allocations: AllocationSnapshot[] = [];
  for (const { doc } of repo.workspaces.values()) {
    if (doc.spec.node === undefined) continue;
    // a stopped workspace keeps its node and GPUs (DESIGN: stopped keeps node, GPUs and volumes)
    allocations.push({ workspace: doc.metadata.name, tenant: doc.spec.tenant, node: doc.spec.node, gpuUuids: doc.spec.gpus?.uuids ?? [], ...templateResources(repo, doc.spec.template) });
  }
  const tenants = [...repo.tenants.values()].map(({ doc }) => {
    const max = doc.spec.quota?.maxGpus;
    return max === undefined ? { name: doc.metadata.name } : { name: doc.metadata.name, maxGpus: max };
  });
  return { nodes, allocations, tenants };
}

/** The placement request of a Workspace document that has no node yet. */
export function requestFromWorkspace(repo: InfraRepo, ws: Workspace): PlacementRequest {
  const model = ws.spec.gpus?.model;
  const req: PlacementRequest = {
    workspace: ws.metadata.name,
    tenant: ws.spec.tenant,
    gpus: model === undefined ? { count: ws.spec.gpus?.count ?? 0 } : { count: ws.spec.gpus?.count ?? 0, model },
    ...templateResources(repo, ws.spec.template),
  };
  if (ws.spec.nodeSelector !== undefined) req.nodeSelector = ws.spec.nodeSelector;
  return req;
}

/**
 * What each workspace on this node holds right now, for billing: its GPUs, whether it counts as running,
 * and the vCPUs, memory and storage its running containers and VM declare. Pure: desired state plus
 * what the runtimes observe.
 */
import { legacyKey, resourceKey, type DesiredResource, type DesiredState, type ObservedResource } from '../desired.js';
import type { GpuDevice } from '../gpu/types.js';
import { heldBy, type HeldResources } from '../../common/infra/held-resources.js';
import type { WorkspaceAllocation } from './usage-types.js';

interface Entry {
  tenant: string;
  gpus: Set<string>;
  holders: string[];
  all: string[];
  run: boolean;
  /** What each container or VM declares, by resource id. */
  declared: Map<string, HeldResources>;
}

/**
 * Declared resources of a rendered container or VM, by the rule the hub also reserves by
 * (common/infra/held-resources.ts): CPU and memory limits of a container; vCPUs, memory and boot disk of a
 * libvirt VM; nothing for an OpenStack VM (its flavor runs on Nova's hosts) or any other resource.
 */
export function declaredResources(r: DesiredResource): HeldResources {
  if (r.kind === 'container') return heldBy({ kind: 'container', cpus: r.spec.cpus, memoryBytes: r.spec.memoryBytes });
  if (r.kind === 'vm') return heldBy({ kind: 'vm', driver: r.spec.driver, vcpus: r.spec.vcpus, memoryBytes: r.spec.memoryBytes, diskBytes: r.spec.disk?.sizeBytes });
  return { milliVcpus: 0, memoryBytes: 0, storageBytes: 0 };
}

/**
 * What each workspace on this node holds now. A workspace counts as running only when its state is
 * running and every resource that holds its GPUs (containers with GPU devices, or its VM; all of its
 * containers when none holds a GPU) is observed running: a workspace that failed to start is not billed.
 * When the runtime cannot be listed, nothing is running: time nobody observed is never billed.
 * `resources` (set only when something is held) adds up what the workspace's containers and VM observed
 * running declare, and only while the workspace counts as running.
 */
export function workspaceAllocations(desired: DesiredState | undefined, declaredGpus: Map<string, string>, observed: ObservedResource[] | undefined, devices: GpuDevice[]): WorkspaceAllocation[] {
  if (desired === undefined) return [];
  const modelOf = new Map(devices.map((d) => [d.uuid, d.model]));
  // Keyed by identity (kind and ref), so a container named like its workspace's network is never taken for it;
  // resources created before labels carried a ref are found by kind and display id.
  const runningKeys = new Set((observed ?? []).filter((o) => o.state === 'running').map(resourceKey));
  const isRunning = (r: DesiredResource): boolean => runningKeys.has(resourceKey(r)) || runningKeys.has(legacyKey(r.kind, r.id));
  const byKey = new Map(desired.resources.map((r) => [resourceKey(r), r]));
  const byWorkspace = new Map<string, Entry>();
  for (const r of desired.resources) {
    const ws = r.owner.workspace;
    if (ws === undefined || (r.kind !== 'container' && r.kind !== 'vm')) continue;
    const entry: Entry = byWorkspace.get(ws) ?? { tenant: r.owner.tenant ?? '', gpus: new Set<string>(), holders: [], all: [], run: r.run, declared: new Map() };
    const uuids = r.kind === 'vm' ? r.spec.gpuUuids : r.spec.devices.filter((d) => d.startsWith('nvidia.com/gpu=') && d !== 'nvidia.com/gpu=all').map((d) => d.slice('nvidia.com/gpu='.length));
    uuids.forEach((u) => entry.gpus.add(u));
    if (uuids.length > 0) entry.holders.push(resourceKey(r));
    entry.all.push(resourceKey(r));
    entry.run &&= r.run;
    entry.declared.set(resourceKey(r), declaredResources(r));
    byWorkspace.set(ws, entry);
  }
  return [...byWorkspace].map(([workspace, e]) => {
    const watch = e.holders.length > 0 ? e.holders : e.all;
    const running = e.run && observed !== undefined && watch.every((key) => isRunning(byKey.get(key)!));
    const alloc: WorkspaceAllocation = {
      workspace,
      tenant: e.tenant,
      gpus: [...e.gpus].sort().map((uuid) => ({ uuid, model: modelOf.get(uuid) ?? declaredGpus.get(uuid) ?? null })),
      running,
    };
    if (running) {
      const held: HeldResources = { milliVcpus: 0, memoryBytes: 0, storageBytes: 0 };
      for (const [key, d] of e.declared) {
        if (!isRunning(byKey.get(key)!)) continue;
        held.milliVcpus += d.milliVcpus;
        held.memoryBytes += d.memoryBytes;
        held.storageBytes += d.storageBytes;
      }
      if (held.milliVcpus > 0 || held.memoryBytes > 0 || held.storageBytes > 0) alloc.resources = held;
    }
    return alloc;
  });
}

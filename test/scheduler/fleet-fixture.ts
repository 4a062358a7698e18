/** A small fleet for placement tests: every node's state is chosen to exercise one filter. */
import type { FleetSnapshot, GpuSnapshot, NodeSnapshot } from '../../hub/scheduler/snapshot.js';

export const H100 = 'NVIDIA H100 80GB HBM3';
export const L40 = 'NVIDIA L40S';
const Gi = 1024 ** 3;

/** n GPUs named GPU-<node>-<i> in index order. */
export function gpus(node: string, n: number, model: string, unhealthy: number[] = []): GpuSnapshot[] {
  return Array.from({ length: n }, (_, i) => ({ uuid: `GPU-${node}-${i}`, model, healthy: !unhealthy.includes(i) }));
}

/** A node with sensible defaults (online, hosts workspaces, 64 cpus / 512Gi, 4 cpus / 16Gi reserved). */
export function node(name: string, more: Partial<NodeSnapshot> = {}): NodeSnapshot {
  return { name, profile: 'gpu-node', hostsWorkspaces: true, labels: {}, drain: false, online: true,
    capacity: { cpus: 64, memoryBytes: 512 * Gi }, reservations: { cpus: 4, memoryBytes: 16 * Gi }, gpus: [], ...more };
}

/** gpu-01: 2 of 8 H100 free; gpu-02: 8 free; gpu-03 (zone eu-2): 4 H100, #1 unhealthy, #0 held → 2 free;
 *  gpu-04 draining; gpu-05 offline; l40-01 (zone eu-1): 4 L40S free; ceph-01 hosts no workspaces. */
export function fleet(): FleetSnapshot {
  return {
    nodes: [
      node('l40-01', { labels: { zone: 'eu-1' }, gpus: gpus('l40-01', 4, L40) }),
      node('gpu-03', { labels: { zone: 'eu-2' }, gpus: gpus('gpu-03', 4, H100, [1]) }),
      node('gpu-01', { labels: { zone: 'eu-1' }, gpus: gpus('gpu-01', 8, H100) }),
      node('gpu-02', { labels: { zone: 'eu-1' }, gpus: gpus('gpu-02', 8, H100) }),
      node('gpu-04', { drain: true, gpus: gpus('gpu-04', 8, H100) }),
      node('gpu-05', { online: false, gpus: gpus('gpu-05', 8, H100) }),
      node('ceph-01', { profile: 'ceph-node', hostsWorkspaces: false }),
    ],
    allocations: [
      { workspace: 'acme/big', tenant: 'acme', node: 'gpu-01', gpuUuids: gpus('gpu-01', 3, H100).map((g) => g.uuid), cpus: 16, memoryBytes: 64 * Gi },
      { workspace: 'beta/six', tenant: 'beta', node: 'gpu-01', gpuUuids: ['GPU-gpu-01-3', 'GPU-gpu-01-4', 'GPU-gpu-01-5'], cpus: 8, memoryBytes: 32 * Gi },
      { workspace: 'beta/one', tenant: 'beta', node: 'gpu-03', gpuUuids: ['GPU-gpu-03-0'], cpus: 56, memoryBytes: 8 * Gi },
    ],
    tenants: [{ name: 'acme', maxGpus: 4 }, { name: 'beta' }],
  };
}

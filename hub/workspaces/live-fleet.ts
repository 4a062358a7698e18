/**
 * The live side of the fleet snapshot, from the hub's store and gateway: a node is online while its
 * agent is connected; its GPUs are those the agent reported in its hello (model from the Node file when
 * the agent did not know it); without a report the scheduler falls back to the Node file's GPUs. Each
 * GPU's health comes from the node's latest telemetry (telemetry_latest, so it survives a hub restart).
 */
import type { InfraRepo } from '../../common/infra/model.js';
import type { LiveNode } from '../scheduler/from-infra.js';
import type { GpuSnapshot } from '../scheduler/snapshot.js';
import type { NodeStatusBody } from './lifecycle.js';
import type { FleetRepo } from '../store/fleet-repo.js';

/** The part of an agent's reported inventory the live view reads. */
export interface Inventory {
  gpus?: Array<{ uuid: string; model?: string | null }>;
}

/** One GPU's health as its agent last reported it. */
export interface ReportedGpuHealth {
  state: 'healthy' | 'degraded' | 'unhealthy';
  problems: string[];
}

/** node → GPU UUID → health, from each node's latest telemetry; GPUs sent without health (older agents) are absent. */
export function gpuHealthOf(latest: ReadonlyArray<{ node: string; payload: unknown }>): Map<string, Map<string, ReportedGpuHealth>> {
  const out = new Map<string, Map<string, ReportedGpuHealth>>();
  for (const r of latest) {
    const gpus = (r.payload as { gpus?: Array<{ uuid: string; health?: ReportedGpuHealth }> } | null)?.gpus ?? [];
    out.set(r.node, new Map(gpus.flatMap((g) => (g.health === undefined ? [] : [[g.uuid, g.health] as const]))));
  }
  return out;
}

/** The GPU health of every node, read from the store (see gpuHealthOf). */
export async function latestGpuHealth(fleet: FleetRepo): Promise<Map<string, Map<string, ReportedGpuHealth>>> {
  return gpuHealthOf(await fleet.latestTelemetry());
}

/** The live view of every node of `repo`, read from the store. */
export async function liveFleet(fleet: FleetRepo, repo: InfraRepo, connected: Iterable<string>): Promise<Map<string, LiveNode>> {
  const [inventories, latest] = await Promise.all([fleet.inventories(), fleet.latestTelemetry()]);
  return liveFleetOf(repo, connected, inventories as ReadonlyMap<string, Inventory | null>, gpuHealthOf(latest));
}

/** The live view of every node of `repo` from the agents' inventories and GPU health. Pure. */
export function liveFleetOf(repo: InfraRepo, connected: Iterable<string>, inventories: ReadonlyMap<string, Inventory | null>, health: ReadonlyMap<string, ReadonlyMap<string, ReportedGpuHealth>>): Map<string, LiveNode> {
  const online = new Set(connected);
  const out = new Map<string, LiveNode>();
  for (const { doc } of repo.nodes.values()) {
    const name = doc.metadata.name;
    const declared = new Map((doc.spec.gpus ?? []).map((g) => [g.uuid, g.model]));
    const reported = inventories.get(name)?.gpus ?? [];
    const live: LiveNode = { online: online.has(name) };
    const unhealthy = [...(health.get(name) ?? new Map<string, ReportedGpuHealth>())].filter(([, h]) => h.state === 'unhealthy');
    if (unhealthy.length > 0) live.unhealthyGpus = Object.fromEntries(unhealthy.map(([uuid, h]) => [uuid, h.problems]));
    if (reported.length > 0) {
      live.gpus = reported.flatMap((g): GpuSnapshot[] => {
        const model = g.model ?? declared.get(g.uuid);
        return model === undefined ? [] : [{ uuid: g.uuid, model, healthy: true }];
      });
    }
    out.set(name, live);
  }
  return out;
}

/** The status body a node last reported (protocol status), or undefined. */
export function nodeStatusOf(fleet: FleetRepo): (node: string) => Promise<NodeStatusBody | undefined> {
  return async (node) => (await fleet.statusOf(node)) as NodeStatusBody | undefined;
}

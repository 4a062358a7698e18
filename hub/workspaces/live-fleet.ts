/**
 * The live side of the fleet snapshot, from the hub's store and gateway: a node is online while its
 * agent is connected; its GPUs are those the agent reported in its hello (model from the Node file when
 * the agent did not know it); without a report the scheduler falls back to the Node file's GPUs. Each
 * GPU's health comes from the node's latest telemetry (telemetry_latest, so it survives a hub restart).
 */
import type Database from 'better-sqlite3';
import type { InfraRepo } from '../../common/infra/model.js';
import type { LiveNode } from '../scheduler/from-infra.js';
import type { GpuSnapshot } from '../scheduler/snapshot.js';
import type { NodeStatusBody } from './lifecycle.js';

interface Inventory {
  gpus?: Array<{ uuid: string; model?: string | null }>;
}

/** One GPU's health as its agent last reported it. */
export interface ReportedGpuHealth {
  state: 'healthy' | 'degraded' | 'unhealthy';
  problems: string[];
}

/** node → GPU UUID → health, from each node's latest telemetry; GPUs sent without health (older agents) are absent. */
export function latestGpuHealth(db: Database.Database): Map<string, Map<string, ReportedGpuHealth>> {
  const out = new Map<string, Map<string, ReportedGpuHealth>>();
  for (const r of db.prepare('SELECT node, payload FROM telemetry_latest').all() as Array<{ node: string; payload: string }>) {
    const gpus = (JSON.parse(r.payload) as { gpus?: Array<{ uuid: string; health?: ReportedGpuHealth }> }).gpus ?? [];
    out.set(r.node, new Map(gpus.flatMap((g) => (g.health === undefined ? [] : [[g.uuid, g.health] as const]))));
  }
  return out;
}

/** The live view of every node of `repo`. */
export function liveFleet(db: Database.Database, repo: InfraRepo, connected: Iterable<string>): Map<string, LiveNode> {
  const online = new Set(connected);
  const rows = db.prepare('SELECT name, inventory FROM nodes').all() as Array<{ name: string; inventory: string | null }>;
  const inventories = new Map(rows.map((r) => [r.name, r.inventory === null ? undefined : (JSON.parse(r.inventory) as Inventory)]));
  const health = latestGpuHealth(db);
  const out = new Map<string, LiveNode>();
  for (const { doc } of repo.nodes.values()) {
    const name = doc.metadata.name;
    const declared = new Map((doc.spec.gpus ?? []).map((g) => [g.uuid, g.model]));
    const reported = inventories.get(name)?.gpus ?? [];
    const live: LiveNode = { online: online.has(name) };
    const reportedHealth = health.get(name);
    if (reportedHealth !== undefined && reportedHealth.size > 0) live.gpuHealth = reportedHealth;
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
export function nodeStatusOf(db: Database.Database): (node: string) => NodeStatusBody | undefined {
  const stmt = db.prepare('SELECT payload FROM node_status WHERE node = ?');
  return (node) => {
    const row = stmt.get(node) as { payload: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.payload) as NodeStatusBody);
  };
}

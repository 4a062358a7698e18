/**
 * Placement: a pure decision over a fleet snapshot. filter (every node, first failing reason counted)
 * → score (bin-pack: fewest free GPUs; spread: most) → pick (ties by node name). Concrete GPU UUIDs are
 * the first free ones of the model in the node's GPU order. Every refusal is explained per reason and count.
 */
import { FoundryError } from '../../common/errors.js';
import type { FleetSnapshot, NodeSnapshot, NodeState } from './snapshot.js';
import { FleetState, indexSnapshot } from './snapshot.js';
import type { NoPlacement, Placement } from './placement.js';

/** What a workspace asks for. */
export interface PlacementRequest {
  workspace: string;
  tenant: string;
  gpus: { count: number; model?: string };
  cpus?: number;
  memoryBytes?: number;
  /** Labels a node must carry (Workspace.spec.nodeSelector). */
  nodeSelector?: Readonly<Record<string, string>>;
}

/** Scoring strategy: bin-pack (default) keeps whole nodes free for large requests; spread evens load. */
export interface PlaceOptions {
  strategy?: 'binpack' | 'spread';
}

/** The answers, declared beside the fleet state that applies them (placement.ts). */
export type { NoPlacement, Placement } from './placement.js';

/** Human form of a byte count for messages: 16Gi, 512Mi, else bytes. */
export function formatBytes(n: number): string {
  for (const [unit, size] of [['Ti', 1024 ** 4], ['Gi', 1024 ** 3], ['Mi', 1024 ** 2], ['Ki', 1024]] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`;
  }
  return `${n}`;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function checkRequest(req: PlacementRequest): void {
  const c = req.gpus.count;
  if (!Number.isInteger(c) || c < 0 || (req.cpus ?? 0) < 0 || (req.memoryBytes ?? 0) < 0) {
    throw new FoundryError('BAD_REQUEST', `placement of ${req.workspace}: gpus.count must be a whole number ≥ 0 and cpus, memory ≥ 0`, { resource: req.workspace });
  }
}

/** The model to use on a node: the requested one, else (no model asked) the best-scoring model with enough free. */
function modelOn(st: NodeState, req: PlacementRequest, spread: boolean): string | undefined | null {
  const count = req.gpus.count;
  if (count === 0) return undefined;
  if (req.gpus.model !== undefined) return (st.freeByModel.get(req.gpus.model)?.length ?? 0) >= count ? req.gpus.model : null;
  let best: string | null = null;
  let bestFree = 0;
  // a plain loop over the node's model names: no per-node allocation on this hot path
  for (const model of st.models) {
    const free = st.freeByModel.get(model)?.length ?? 0;
    if (free < count) continue;
    if (best === null || (spread ? free > bestFree : free < bestFree)) {
      best = model;
      bestFree = free;
    }
  }
  return best;
}

/**
 * "node gpu-01: GPU-… unhealthy (ecc_uncorrected)" when the node lacks free GPUs only because some are
 * unhealthy (free + unhealthy of a fitting model would be enough); undefined otherwise. At most 4 named.
 */
function unhealthyText(st: NodeState, req: PlacementRequest): string | undefined {
  const models = req.gpus.model !== undefined ? [req.gpus.model] : st.models;
  const sick = st.unhealthy.filter((g) => models.includes(g.model) && (st.freeByModel.get(g.model)?.length ?? 0) + st.unhealthy.filter((u) => u.model === g.model).length >= req.gpus.count);
  if (sick.length === 0) return undefined;
  const named = sick.slice(0, 4).map((g) => `${g.uuid} unhealthy (${g.problems !== undefined && g.problems.length > 0 ? g.problems.join(', ') : 'reported unhealthy'})`);
  return `node ${st.node.name}: ${named.join(', ')}${sick.length > 4 ? ` and ${sick.length - 4} more unhealthy` : ''}`;
}

function matches(labels: Readonly<Record<string, string>>, selector: Array<[string, string]>): boolean {
  for (const [k, v] of selector) if (labels[k] !== v) return false;
  return true;
}

/** Decides where a workspace goes. Pure: the snapshot is not changed. */
export function place(req: PlacementRequest, snapshot: FleetSnapshot | FleetState, opts: PlaceOptions = {}): Placement | NoPlacement {
  checkRequest(req);
  const fleet = snapshot instanceof FleetState ? snapshot : indexSnapshot(snapshot);
  const spread = opts.strategy === 'spread';
  const count = req.gpus.count;
  const cpus = req.cpus ?? 0;
  const mem = req.memoryBytes ?? 0;

  const held = fleet.allocations.get(req.workspace);
  if (held !== undefined) {
    return { ok: true, workspace: req.workspace, tenant: held.tenant, node: held.node, gpuUuids: [...held.gpuUuids], gpuModel: req.gpus.model, cpus: held.cpus, memoryBytes: held.memoryBytes, existing: true,
      explanation: `${req.workspace} is already placed on ${held.node}` };
  }
  const quota = fleet.quotas.get(req.tenant);
  const holds = fleet.gpusHeldBy(req.tenant);
  if (quota !== undefined && holds + count > quota) {
    const reason = `tenant ${req.tenant}: quota ${plural(quota, 'GPU')}, holds ${holds}, asks ${count}`;
    return { ok: false, workspace: req.workspace, tenant: req.tenant, reasons: [{ reason, nodes: 0 }], explanation: `no placement for ${req.workspace}: ${reason}` };
  }

  const selector = Object.entries(req.nodeSelector ?? {});
  // per-request reason texts by filter order; order 0 (profile) varies per node and is counted by profile
  const texts = [
    '',
    'offline',
    'draining',
    `labels do not match ${selector.map(([k, v]) => `${k}=${v}`).join(',')}`,
    `not enough free ${req.gpus.model ?? 'GPUs'} (need ${count})`,
    `not enough free cpu (need ${cpus})`,
    `not enough free memory (need ${formatBytes(mem)})`,
  ];
  // profile, offline and draining do not depend on the request: counted once per snapshot (FleetState)
  const counts = [0, fleet.closed.offline, fleet.closed.draining, 0, 0, 0, 0];
  const byProfile = fleet.closed.byProfile;
  let bestSt: NodeState | undefined;
  let bestModel: string | undefined;
  let fitting = 0;
  // a node that lacks free GPUs because some are unhealthy is named with them (one reason per node)
  const sickNodes: string[] = [];
  for (const st of fleet.open) {
    if (selector.length > 0 && !matches(st.node.labels, selector)) counts[3]!++;
    else {
      const model = modelOn(st, req, spread);
      const sick = model === null && st.unhealthy.length > 0 ? unhealthyText(st, req) : undefined;
      if (sick !== undefined) sickNodes.push(sick);
      else if (model === null) counts[4]!++;
      else if (cpus > st.freeCpus) counts[5]!++;
      else if (mem > st.freeMemoryBytes) counts[6]!++;
      else {
        fitting++;
        // nodes are visited in name order, so keeping the first of equal scores breaks ties by name
        if (bestSt === undefined || (spread ? st.freeGpus > bestSt.freeGpus : st.freeGpus < bestSt.freeGpus)) {
          bestSt = st;
          bestModel = model;
        }
      }
    }
  }
  const rejected: Array<{ reason: string; nodes: number; order: number; named?: boolean }> = [];
  for (const [profile, nodes] of byProfile) rejected.push({ reason: `profile ${profile} hosts no workspaces`, nodes, order: 0 });
  counts.forEach((nodes, order) => {
    if (nodes > 0) rejected.push({ reason: texts[order] as string, nodes, order });
  });
  for (const reason of sickNodes) rejected.push({ reason, nodes: 1, order: 4, named: true });
  rejected.sort((a, b) => b.nodes - a.nodes || a.order - b.order || (a.reason < b.reason ? -1 : 1));
  const reasons = rejected.map(({ reason, nodes }) => ({ reason, nodes }));
  // a reason that names its node ("node gpu-01: ...") needs no count in front
  const why = rejected.map((r) => (r.named === true ? r.reason : `${plural(r.nodes, 'node')}: ${r.reason}`)).join('; ');
  if (bestSt === undefined) {
    const text = fleet.nodes.length === 0 ? 'no nodes in the fleet' : why;
    return { ok: false, workspace: req.workspace, tenant: req.tenant, reasons: fleet.nodes.length === 0 ? [{ reason: text, nodes: 0 }] : reasons, explanation: `no placement for ${req.workspace}: ${text}` };
  }
  const st = bestSt;
  const model = bestModel;
  const gpuUuids = model === undefined ? [] : (st.freeByModel.get(model) ?? []).slice(0, count);
  const what = count === 0 ? 'no GPUs' : `${count} × ${model} (${gpuUuids.join(', ')})`;
  const rule = spread ? 'spread: most free GPUs' : 'bin-pack: fewest free GPUs';
  const lines = [
    `place ${req.workspace} on ${st.node.name}`,
    '',
    `tenant ${req.tenant}: ${what}${cpus > 0 ? `, ${cpus} cpu` : ''}${mem > 0 ? `, ${formatBytes(mem)} memory` : ''}.`,
    `${plural(fitting, 'node')} fit; ${rule} chose ${st.node.name} (${st.freeGpus} free GPUs before, ${st.freeGpus - gpuUuids.length} after); ties go to the first name.`,
  ];
  if (reasons.length > 0) lines.push(`ruled out: ${why}.`);
  if (quota !== undefined) lines.push(`quota: ${holds + count} of ${plural(quota, 'GPU')} after this placement.`);
  return { ok: true, workspace: req.workspace, tenant: req.tenant, node: st.node.name, gpuUuids, gpuModel: model, cpus, memoryBytes: mem, existing: false, explanation: lines.join('\n') };
}

/**
 * Checks a decision again on a newer snapshot (the commit re-reads Git first): place() itself, on the fleet
 * as it is now but with only the decided node and, on it, only the decided GPUs. So quota, drain, profile,
 * health, capacity and GPUs taken meanwhile are judged by the one placer, never by a second copy of its
 * rules. Undefined when the decision still holds; else place()'s refusal with its reasons.
 */
export function recheckPlacement(decided: Placement, req: PlacementRequest, now: FleetSnapshot): NoPlacement | undefined {
  const pinned = new Set(decided.gpuUuids);
  const node = now.nodes.find((n) => n.name === decided.node);
  const only: NodeSnapshot[] = node === undefined ? [] : [{ ...node, gpus: node.gpus.filter((g) => pinned.has(g.uuid)) }];
  const again = place({ ...req, gpus: { count: decided.gpuUuids.length, ...(decided.gpuModel === undefined ? {} : { model: decided.gpuModel }) } }, { ...now, nodes: only });
  if (!again.ok) return node === undefined ? { ...again, reasons: [{ reason: `node ${decided.node} is gone`, nodes: 1 }], explanation: `no placement for ${req.workspace}: node ${decided.node} is gone` } : again;
  if (again.existing || again.node !== decided.node || again.gpuUuids.join() !== decided.gpuUuids.join()) {
    const reason = again.existing ? `${req.workspace} was placed meanwhile on ${again.node}` : `the decided GPUs on ${decided.node} are no longer the free ones`;
    return { ok: false, workspace: req.workspace, tenant: req.tenant, reasons: [{ reason, nodes: 1 }], explanation: `no placement for ${req.workspace}: ${reason}` };
  }
  return undefined;
}

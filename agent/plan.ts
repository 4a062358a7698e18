/**
 * The planner: compares the whole desired state of a node with what is observed now and returns the
 * ordered actions that converge them, each with its reason. Pure and level-triggered: Git diffs decide
 * when to run, never what to do. The mass-prune guard lives here so that dry runs show it too.
 */
import type { ResourceScope } from '../common/infra/resource-ref.js';
import { legacyKey, resourceKey, type Action, type ActionCause, type ActionPhase, type ActionType, type DesiredResource, type DesiredState, type ObservedResource, type Owner, type ResourceKind } from './desired.js';

/** A unit of the node: the profile's baseline, one service or one workspace (what a deliberate removal removes whole). */
export interface PlanUnit {
  scope: ResourceScope;
  name: string;
}

/** Why the mass-prune guard held removals back (typed: status and the hub read the fields, never the message). */
export interface PruneRefusal {
  reason: 'PruneRefused';
  /** Which rule refused: most units of the node removed at once, or most workloads of the units that stay. */
  rule: 'units' | 'workloads';
  /** Units the revision removes whole (their workloads are kept running). */
  removedUnits: PlanUnit[];
  /** Units with workloads on the node now. */
  observedUnits: number;
  /** Workload removals held back, and workloads managed now. */
  held: number;
  managed: number;
  /** What an admin reads: what was refused and how to allow it (spec.allowMassPrune). */
  message: string;
}

/** The outcome of planning: ordered actions, counts, and whether a mass prune was refused. */
export interface PlanResult {
  node: string;
  revision: string;
  /** Actions in execution order; noop actions included so status can show every resource. */
  actions: Action[];
  counts: Record<ActionType, number>;
  /** Containers and VMs the agent manages now (what the mass-prune guard weighs). */
  managed: number;
  /** Set when removals were held back by the mass-prune guard. */
  pruneRefused: PruneRefusal | undefined;
}

/** Resources that run: the ones the mass-prune guard counts. */
const WORKLOAD_KINDS: ReadonlySet<ResourceKind> = new Set(['container', 'vm']);
const KIND_ORDER: Record<ResourceKind, number> = { network: 0, volume: 1, container: 2, vm: 3 };

/** Plans the actions that take `observed` to `desired`. Resources are matched by identity (resourceKey), never by display id alone. */
export function planActions(desired: DesiredState, observed: ObservedResource[]): PlanResult {
  const byKey = groupByKey(observed);
  const actions: Action[] = [];
  const duplicates = new Set<Action>();
  for (const d of desired.resources) {
    const key = resourceKey(d);
    // Resources created before ownership marks carried a ref are matched by kind and display id.
    const found = [...(byKey.get(key) ?? []), ...(byKey.get(legacyKey(d.kind, d.id)) ?? [])];
    byKey.delete(key);
    byKey.delete(legacyKey(d.kind, d.id));
    const [keep, ...extras] = rankDuplicates(found, d);
    for (const extra of extras) {
      const dup = action('remove', 'Duplicate', extra, `remove: duplicate of ${keep?.name ?? d.name} (left by an interrupted run)`, undefined, extra);
      duplicates.add(dup);
      actions.push(dup);
    }
    actions.push(planOne(d, keep));
  }
  for (const [, rest] of byKey) {
    for (const o of rest) actions.push(planOrphan(o));
  }
  const pruneRefused = massPruneCheck(desired, observed, actions.filter((a) => !duplicates.has(a)));
  const ordered = orderActions(actions);
  const counts: Record<ActionType, number> = { create: 0, recreate: 0, start: 0, stop: 0, remove: 0, noop: 0 };
  for (const a of ordered) counts[a.type]++;
  return { node: desired.node, revision: desired.revision, actions: ordered, counts, managed: observed.filter((o) => WORKLOAD_KINDS.has(o.kind)).length, pruneRefused };
}

function groupByKey(observed: ObservedResource[]): Map<string, ObservedResource[]> {
  const map = new Map<string, ObservedResource[]>();
  for (const o of observed) {
    const key = resourceKey(o);
    map.set(key, [...(map.get(key) ?? []), o]);
  }
  return map;
}

/** Best candidate first: same spec hash, then running, then the expected runtime name. */
function rankDuplicates(found: ObservedResource[], d: DesiredResource): ObservedResource[] {
  const score = (o: ObservedResource): number => (o.specHash === d.specHash ? 4 : 0) + (o.state === 'running' ? 2 : 0) + (o.name === d.name ? 1 : 0);
  return [...found].sort((a, b) => score(b) - score(a) || a.runtimeId.localeCompare(b.runtimeId));
}

function planOne(d: DesiredResource, o: ObservedResource | undefined): Action {
  if (o === undefined) return action('create', 'Missing', d, 'create: declared and not present', d, undefined);
  // Volumes hold data and networks carry no spec worth a disruption: both are only ever created.
  if (d.kind === 'volume' || d.kind === 'network') return action('noop', 'UpToDate', d, 'unchanged', d, o);
  if (o.specHash !== d.specHash) return action('recreate', 'SpecChanged', d, `recreate: ${changeReason(d, o)}`, d, o);
  if (d.run && o.state !== 'running') return action('start', 'NotRunning', d, `start: found ${o.state}, expected running (stopped outside the agent or crashed)`, d, o);
  if (!d.run && o.state === 'running') return action('stop', 'StateStopped', d, 'stop: workspace state is stopped', d, o);
  return action('noop', 'UpToDate', d, 'unchanged', d, o);
}

function planOrphan(o: ObservedResource): Action {
  if (o.kind === 'volume' && o.reclaimPolicy !== 'Delete') return { ...action('noop', 'Retained', o, 'kept: no longer declared, volume retained (reclaimPolicy Retain)', undefined, o), retained: true };
  const data = o.kind === 'vm' ? (o.reclaimPolicy === 'Delete' ? ', disk deleted (reclaimPolicy Delete)' : ', disk kept') : '';
  return action('remove', 'Undeclared', o, `remove: no longer declared${data}`, undefined, o);
}

/** Explains a spec change from the facts the runtime reports; falls back to the hashes. */
function changeReason(d: DesiredResource, o: ObservedResource): string {
  if (o.specHash === undefined) return 'no spec hash recorded on the running resource';
  if (d.kind === 'container' && o.facts.image !== undefined && o.facts.image !== d.spec.image) return `image changed from ${o.facts.image} to ${d.spec.image}`;
  return `spec changed (hash ${o.specHash} -> ${d.specHash})`;
}

/** The unit a resource belongs to (from its owner; legacy resources without a ref have one too). */
export function unitOf(owner: Owner): PlanUnit {
  if (owner.workspace !== undefined) return { scope: 'workspace', name: owner.workspace };
  if (owner.service !== undefined) return { scope: 'service', name: owner.service };
  return { scope: 'profile', name: owner.profile ?? '' };
}

const unitKey = (u: PlanUnit): string => JSON.stringify([u.scope, u.name]);

/**
 * The mass-prune guard (docs/agent.md#the-mass-prune-guard). Without spec.allowMassPrune a revision may
 * remove one unit (workspace or service) whole, or fewer than half of the units with workloads; it is refused
 * when it removes two or more units and more than half of them (an emptied workspaces folder, most of a busy
 * node), or when it removes two or more workloads of units that stay and more than half of all workloads.
 * Held-back removals become noops marked `held`, with the networks and volumes they would take along.
 */
function massPruneCheck(desired: DesiredState, observed: ObservedResource[], actions: Action[]): PruneRefusal | undefined {
  const workloads = observed.filter((o) => WORKLOAD_KINDS.has(o.kind));
  const prunes = actions.filter((a) => a.type === 'remove' && a.desired === undefined && WORKLOAD_KINDS.has(a.kind));
  if (desired.allowMassPrune || workloads.length === 0 || prunes.length === 0) return undefined;
  const observedUnits = new Map(workloads.map((o) => [unitKey(unitOf(o.owner)), unitOf(o.owner)]));
  const keptUnits = new Set(desired.resources.filter((r) => WORKLOAD_KINDS.has(r.kind)).map((r) => unitKey(unitOf(r.owner))));
  const removedUnits = [...observedUnits].filter(([k]) => !keptUnits.has(k)).map(([, u]) => u).sort((a, b) => a.scope.localeCompare(b.scope) || a.name.localeCompare(b.name));
  const prunesInKept = prunes.filter((a) => keptUnits.has(unitKey(unitOf(a.observed!.owner)))).length;
  const tooManyUnits = removedUnits.length >= 2 && removedUnits.length * 2 > observedUnits.size;
  const tooManyWorkloads = prunesInKept >= 2 && prunesInKept * 2 > workloads.length;
  if (!tooManyUnits && !tooManyWorkloads) return undefined;
  const allow = `set spec.allowMassPrune: true in cluster.yaml or nodes/${desired.node}.yaml in the revision that means it`;
  const names = removedUnits.map((u) => `${u.scope} ${u.name}`).join(', ');
  const message = tooManyUnits
    ? `refusing to prune ${removedUnits.length} of ${observedUnits.size} workspaces and services of node ${desired.node} at once (${names}) at ${desired.revision}; remove one at a time, or ${allow}`
    : `refusing to prune ${prunesInKept} of ${workloads.length} managed workloads (more than half) at ${desired.revision}; ${allow}`;
  const held = new Set(prunes);
  // Dependent networks and volumes of held-back workloads stay too.
  for (const a of actions) {
    if (held.has(a) || (a.type === 'remove' && a.desired === undefined && !WORKLOAD_KINDS.has(a.kind))) {
      a.type = 'noop';
      a.reason = `kept: ${message}`;
      a.held = 'PruneRefused';
      a.cause = 'Retained';
      a.retained = true;
    }
  }
  return { reason: 'PruneRefused', rule: tooManyUnits ? 'units' : 'workloads', removedUnits, observedUnits: observedUnits.size, held: prunes.length, managed: workloads.length, message };
}

/** The phase of an action (ActionPhase): removals of workloads, networks and volumes, workloads, removals of networks and volumes. */
function phaseOf(type: ActionType, kind: ResourceKind): ActionPhase {
  const workload = WORKLOAD_KINDS.has(kind);
  if (type === 'remove') return workload ? 0 : 3;
  return workload ? 2 : 1;
}

/** By phase, then kind, then id. */
function orderActions(actions: Action[]): Action[] {
  return [...actions].sort((a, b) => a.phase - b.phase || KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || a.id.localeCompare(b.id) || a.key.localeCompare(b.key));
}

function action(type: ActionType, cause: ActionCause, r: DesiredResource | ObservedResource, reason: string, desired: DesiredResource | undefined, observed: ObservedResource | undefined): Action {
  return { type, kind: r.kind, id: r.id, key: resourceKey(r), reason, cause, desired, observed, phase: phaseOf(type, r.kind) };
}

/** One line per action that changes something (and a summary), for the CLI and logs. */
export function formatPlan(plan: PlanResult, options: { showUnchanged?: boolean } = {}): string {
  const lines = plan.actions
    .filter((a) => options.showUnchanged === true || a.type !== 'noop')
    .map((a) => `${a.type.padEnd(8)} ${a.kind.padEnd(9)} ${a.id}  (${a.reason})`);
  const c = plan.counts;
  lines.push(`plan for ${plan.node} at ${plan.revision}: ${c.create} to create, ${c.recreate} to recreate, ${c.start} to start, ${c.stop} to stop, ${c.remove} to remove, ${c.noop} unchanged`);
  if (plan.pruneRefused !== undefined) lines.push(`warning: ${plan.pruneRefused.message}`);
  return lines.join('\n');
}

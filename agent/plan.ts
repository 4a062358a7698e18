/**
 * The planner: compares the whole desired state of a node with what is observed now and returns the
 * ordered actions that converge them, each with its reason. Pure and level-triggered: Git diffs decide
 * when to run, never what to do. The mass-prune guard lives here so that dry runs show it too.
 */
import type { Action, ActionType, DesiredResource, DesiredState, ObservedResource, ResourceKind } from './desired.js';

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
  pruneRefused: string | undefined;
}

/** Resources that run: the ones the mass-prune guard counts. */
const WORKLOAD_KINDS: ReadonlySet<ResourceKind> = new Set(['container', 'vm']);
const KIND_ORDER: Record<ResourceKind, number> = { network: 0, volume: 1, container: 2, vm: 3 };

/** Plans the actions that take `observed` to `desired`. */
export function planActions(desired: DesiredState, observed: ObservedResource[]): PlanResult {
  const byId = groupById(observed);
  const actions: Action[] = [];
  const duplicates = new Set<Action>();
  for (const d of desired.resources) {
    const found = byId.get(d.id) ?? [];
    byId.delete(d.id);
    const [keep, ...extras] = rankDuplicates(found, d);
    for (const extra of extras) {
      const dup = action('remove', extra.kind, extra.id, `remove: duplicate of ${keep?.name ?? d.name} (left by an interrupted run)`, undefined, extra);
      duplicates.add(dup);
      actions.push(dup);
    }
    actions.push(planOne(d, keep));
  }
  for (const [, rest] of byId) {
    for (const o of rest) actions.push(planOrphan(o));
  }
  const pruneRefused = massPruneCheck(desired, observed, actions.filter((a) => !duplicates.has(a)));
  const ordered = orderActions(actions);
  const counts: Record<ActionType, number> = { create: 0, recreate: 0, start: 0, stop: 0, remove: 0, noop: 0 };
  for (const a of ordered) counts[a.type]++;
  return { node: desired.node, revision: desired.revision, actions: ordered, counts, managed: observed.filter((o) => WORKLOAD_KINDS.has(o.kind)).length, pruneRefused };
}

function groupById(observed: ObservedResource[]): Map<string, ObservedResource[]> {
  const map = new Map<string, ObservedResource[]>();
  for (const o of observed) map.set(o.id, [...(map.get(o.id) ?? []), o]);
  return map;
}

/** Best candidate first: same spec hash, then running, then the expected runtime name. */
function rankDuplicates(found: ObservedResource[], d: DesiredResource): ObservedResource[] {
  const score = (o: ObservedResource): number => (o.specHash === d.specHash ? 4 : 0) + (o.state === 'running' ? 2 : 0) + (o.name === d.name ? 1 : 0);
  return [...found].sort((a, b) => score(b) - score(a) || a.runtimeId.localeCompare(b.runtimeId));
}

function planOne(d: DesiredResource, o: ObservedResource | undefined): Action {
  if (o === undefined) return action('create', d.kind, d.id, 'create: declared and not present', d, undefined);
  // Volumes hold data and networks carry no spec worth a disruption: both are only ever created.
  if (d.kind === 'volume' || d.kind === 'network') return action('noop', d.kind, d.id, 'unchanged', d, o);
  if (o.specHash !== d.specHash) return action('recreate', d.kind, d.id, `recreate: ${changeReason(d, o)}`, d, o);
  if (d.run && o.state !== 'running') return action('start', d.kind, d.id, `start: found ${o.state}, expected running (stopped outside the agent or crashed)`, d, o);
  if (!d.run && o.state === 'running') return action('stop', d.kind, d.id, 'stop: workspace state is stopped', d, o);
  return action('noop', d.kind, d.id, 'unchanged', d, o);
}

function planOrphan(o: ObservedResource): Action {
  if (o.kind === 'volume' && o.reclaimPolicy !== 'Delete') return action('noop', o.kind, o.id, 'kept: no longer declared, volume retained (reclaimPolicy Retain)', undefined, o);
  const data = o.kind === 'vm' ? (o.reclaimPolicy === 'Delete' ? ', disk deleted (reclaimPolicy Delete)' : ', disk kept') : '';
  return action('remove', o.kind, o.id, `remove: no longer declared${data}`, undefined, o);
}

/** Explains a spec change from the facts the runtime reports; falls back to the hashes. */
function changeReason(d: DesiredResource, o: ObservedResource): string {
  if (o.specHash === undefined) return 'no spec hash recorded on the running resource';
  if (d.kind === 'container' && o.facts.image !== undefined && o.facts.image !== d.spec.image) return `image changed from ${o.facts.image} to ${d.spec.image}`;
  return `spec changed (hash ${o.specHash} -> ${d.specHash})`;
}

/** Refuses removing more than half (or all) of the running workloads unless the revision allows it; held-back removals become noops. */
function massPruneCheck(desired: DesiredState, observed: ObservedResource[], actions: Action[]): string | undefined {
  const managed = observed.filter((o) => WORKLOAD_KINDS.has(o.kind)).length;
  const prunes = actions.filter((a) => a.type === 'remove' && a.desired === undefined && WORKLOAD_KINDS.has(a.kind));
  if (desired.allowMassPrune || managed === 0 || prunes.length === 0) return undefined;
  if (prunes.length * 2 <= managed && prunes.length < managed) return undefined;
  const why = prunes.length === managed ? 'all' : 'more than half';
  const message = `refusing to prune ${prunes.length} of ${managed} managed workloads (${why}) at ${desired.revision}; set spec.allowMassPrune: true in cluster.yaml or nodes/${desired.node}.yaml in the revision that means it`;
  const held = new Set(prunes);
  // Dependent networks and volumes of held-back workloads stay too.
  for (const a of actions) {
    if (held.has(a) || (a.type === 'remove' && a.desired === undefined && !WORKLOAD_KINDS.has(a.kind))) {
      a.type = 'noop';
      a.reason = `kept: ${message}`;
    }
  }
  return message;
}

/** Removals of workloads first, then networks and volumes, then workloads, then removals of networks and volumes; by id within a phase. */
function orderActions(actions: Action[]): Action[] {
  const phase = (a: Action): number => {
    const workload = WORKLOAD_KINDS.has(a.kind);
    if (a.type === 'remove') return workload ? 0 : 3;
    return workload ? 2 : 1;
  };
  return [...actions].sort((a, b) => phase(a) - phase(b) || KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || a.id.localeCompare(b.id));
}

function action(type: ActionType, kind: ResourceKind, id: string, reason: string, desired: DesiredResource | undefined, observed: ObservedResource | undefined): Action {
  return { type, kind, id, reason, desired, observed };
}

/** One line per action that changes something (and a summary), for the CLI and logs. */
export function formatPlan(plan: PlanResult, options: { showUnchanged?: boolean } = {}): string {
  const lines = plan.actions
    .filter((a) => options.showUnchanged === true || a.type !== 'noop')
    .map((a) => `${a.type.padEnd(8)} ${a.kind.padEnd(9)} ${a.id}  (${a.reason})`);
  const c = plan.counts;
  lines.push(`plan for ${plan.node} at ${plan.revision}: ${c.create} to create, ${c.recreate} to recreate, ${c.start} to start, ${c.stop} to stop, ${c.remove} to remove, ${c.noop} unchanged`);
  if (plan.pruneRefused !== undefined) lines.push(`warning: ${plan.pruneRefused}`);
  return lines.join('\n');
}

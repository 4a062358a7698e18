/**
 * The reconcile runbook: ordered, named steps with one signature. A step that throws ends the run; a
 * refused revision (fetch, signature, validation, render) is recorded and the run converges towards the
 * last good revision instead. The final status step lives in reconciler.ts and always runs.
 */
import { FoundryError, isFoundryError } from '../../common/errors.js';
import { formatIssue } from '../../common/infra/model.js';
import { resourceKey, type Action, type ActionType, type DesiredResource, type DesiredState, type ObservedResource, type Owner } from '../desired.js';
import { driverKeys, runtimeKeyOf, type RuntimeDriver } from '../drivers/driver.js';
import { planActions } from '../plan.js';
import { renderNodeState } from '../render.js';
import { verifyCommitSignature } from '../source/verify-signature.js';
import { StopRun, recordError, reject, type RunContext } from './context.js';
import { holdForSecrets, pruneSecrets, putSecretsFor, resolveSecrets } from '../secrets/secret-steps.js';
import { nodeFactsOf, saveLastGood, type LastGood } from './last-good.js';
import { reasonOfCode, type ResourceStatus } from './status.js';

/** One step of the runbook. */
export type Step = (ctx: RunContext) => Promise<void>;

/** Fetch the configured revision of the infra repo. */
async function fetchRevision(ctx: RunContext): Promise<void> {
  try {
    ctx.fetched = await ctx.deps.source.fetch();
  } catch (err) {
    reject(ctx, 'fetch', err);
  }
}

/** Refuse a commit without a good signature by an allowed key (when verification is on). */
async function verifySignature(ctx: RunContext): Promise<void> {
  const policy = ctx.deps.verify;
  if (ctx.rejected || policy === undefined || ctx.fetched === undefined) return;
  try {
    if (ctx.fetched.root === undefined) throw new FoundryError('GIT_SIGNATURE', 'signature verification is on but the repo is a plain directory, not a git repository', { resource: ctx.fetched.dir });
    const sig = await verifyCommitSignature(ctx.fetched.root, ctx.fetched.revision, policy);
    ctx.deps.logger.debug({ event: 'signature-verified', revision: sig.revision, signer: sig.signer, key: sig.key }, 'commit signature verified');
  } catch (err) {
    reject(ctx, 'verify', err);
  }
}

/** Parse and validate every document; a revision with any issue is refused. */
async function loadRevision(ctx: RunContext): Promise<void> {
  if (ctx.rejected || ctx.fetched === undefined) return;
  // Rendering is pure: the same revision gives the same desired state, so an unchanged revision is not parsed again.
  const good = ctx.memory.lastGood;
  if (good?.repo !== undefined && good.revision === ctx.fetched.revision) {
    ctx.candidate = good.repo;
    return;
  }
  const repo = await ctx.deps.loadRepo(ctx.fetched.dir, ctx.fetched.revision);
  ctx.issues = repo.issues.map(formatIssue);
  if (repo.issues.length === 0) {
    ctx.candidate = repo;
    return;
  }
  const first = repo.issues[0]!;
  const more = repo.issues.length > 1 ? ` (and ${repo.issues.length - 1} more)` : '';
  reject(ctx, 'load', new FoundryError(first.code, `revision ${ctx.fetched.revision.slice(0, 12)} is invalid: ${formatIssue(first)}${more}`, { resource: `${first.file}:${first.line}` }));
}

/** Render this node's desired state from the validated revision. */
async function renderDesired(ctx: RunContext): Promise<void> {
  if (ctx.rejected || ctx.candidate === undefined) return;
  const good = ctx.memory.lastGood;
  if (good !== undefined && good.repo === ctx.candidate) {
    ctx.desired = good.desired;
    return;
  }
  try {
    ctx.desired = renderNodeState(ctx.candidate, ctx.deps.node);
  } catch (err) {
    reject(ctx, 'render', err);
    return;
  }
  const next: LastGood = { revision: ctx.candidate.revision, repo: ctx.candidate, desired: ctx.desired, facts: nodeFactsOf(ctx.candidate, ctx.deps.node), restored: false };
  ctx.memory.lastGood = next;
  // Kept across restarts: a restart with a bad tip or Git unreachable still repairs drift from it.
  try {
    await saveLastGood(ctx.deps.stateDir, next);
  } catch (err) {
    ctx.deps.logger.error({ event: 'last-good-write-failed', reason: err instanceof Error ? err.message : String(err) }, 'cannot persist the last good revision');
  }
}

/** A refused revision: converge towards the last good one (drift repair goes on), or stop when there is none. */
async function keepLastGood(ctx: RunContext): Promise<void> {
  if (!ctx.rejected) return;
  const good = ctx.memory.lastGood;
  if (good === undefined) throw new StopRun('no good revision yet: nothing is changed');
  ctx.desired = good.desired;
  ctx.usingFallback = true;
  ctx.deps.logger.warn({ event: 'keep-last-good', revision: good.revision, refused: ctx.fetched?.revision, restored: good.restored }, `keeping the last good revision ${good.revision.slice(0, 12)}${good.restored ? ' (restored from the state dir)' : ''}`);
}

/** List what the drivers manage on this node; a driver that cannot list leaves its kinds alone this run. */
async function observeRuntimes(ctx: RunContext): Promise<void> {
  const lists = await Promise.all(
    ctx.deps.drivers.map(async (d) => {
      try {
        return await d.list(ctx.deps.node);
      } catch (err) {
        recordError(ctx, 'observe', err);
        for (const k of driverKeys(d)) ctx.unavailableKinds.add(k);
        return [];
      }
    }),
  );
  ctx.observed = lists.flat();
  if (ctx.deps.drivers.length > 0 && ctx.deps.drivers.every((d) => driverKeys(d).every((k) => ctx.unavailableKinds.has(k)))) throw new StopRun('no runtime reachable');
}

/** Diff desired and observed into ordered actions with reasons (resources no driver handles are reported). */
async function planChanges(ctx: RunContext): Promise<void> {
  const desired = ctx.desired as DesiredState;
  const handled = new Set<string>(ctx.deps.drivers.flatMap(driverKeys));
  for (const r of desired.resources) {
    const key = runtimeKeyOf(r);
    if (!handled.has(key)) setStatus(ctx, r, 'create', 'Stalled', 'NoDriver', `no ${key} driver is configured on this node`);
    else if (ctx.unavailableKinds.has(key)) setStatus(ctx, r, 'noop', 'Reconciling', 'RuntimeUnavailable', `the ${key} runtime could not be listed; retried next run`);
  }
  const usable = (k: string): boolean => handled.has(k) && !ctx.unavailableKinds.has(k);
  ctx.plan = planActions({ ...desired, resources: desired.resources.filter((r) => usable(runtimeKeyOf(r))) }, ctx.observed.filter((o) => usable(runtimeKeyOf(o))));
}

/** Report removals held back by the mass-prune guard (they stay until a revision allows them). */
async function guardMassPrune(ctx: RunContext): Promise<void> {
  const refused = ctx.plan?.pruneRefused;
  if (refused === undefined) return;
  recordError(ctx, 'guard', new FoundryError('PRUNE_REFUSED', refused.message, { resource: `node/${ctx.deps.node}` }));
  ctx.deps.logger.warn({ event: 'prune-refused', revision: ctx.desired?.revision, rule: refused.rule, held: refused.held, managed: refused.managed }, refused.message);
}

const DONE_REASON: Record<ActionType, string> = { create: 'Created', recreate: 'Recreated', start: 'Started', stop: 'Stopped', remove: 'Pruned', noop: 'UpToDate' };

/** Apply the actions phase by phase (removals, networks and volumes, workloads, their removals); the actions of a phase are independent and run a few at a time. A failure backs off that resource only. */
async function applyActions(ctx: RunContext): Promise<void> {
  const plan = ctx.plan!;
  ctx.memory.backoff.retain(new Set([...ctx.observed.map(resourceKey), ...(ctx.desired?.resources ?? []).map(resourceKey)]));
  for (const phase of phases(plan.actions)) await pool(phase, ctx.deps.applyConcurrency ?? 4, (a) => applyOne(ctx, a));
}

/** Splits the planner's ordered actions into runs of the same phase (the planner set each action's phase). */
function phases(actions: Action[]): Action[][] {
  const out: Action[][] = [];
  for (const a of actions) {
    const last = out[out.length - 1];
    if (last !== undefined && last[0]!.phase === a.phase) last.push(a);
    else out.push([a]);
  }
  return out;
}

/** Runs `fn` over `items` with at most `limit` at a time. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

async function applyOne(ctx: RunContext, a: Action): Promise<void> {
  const { logger, now } = ctx.deps;
  const { backoff } = ctx.memory;
  const r = actionResource(a);
  if (a.type === 'noop') {
    if (a.held !== undefined) setStatus(ctx, r, a.type, 'Stalled', a.held, a.reason);
    else setStatus(ctx, r, a.type, 'Ready', a.retained === true ? 'Retained' : 'UpToDate', a.reason);
    return;
  }
  const hash = a.desired?.specHash;
  const waiting = ctx.ignoreBackoff ? undefined : backoff.waiting(a.key, hash);
  if (waiting !== undefined) {
    const at = new Date(waiting.nextAttemptAt).toISOString();
    setStatus(ctx, r, a.type, waiting.lastError.retry === 'transient' ? 'Reconciling' : 'Stalled', reasonOfCode(waiting.lastError.code), `${waiting.lastError.message} (backing off: retry ${waiting.failures + 1} at ${at})`, { failures: waiting.failures, nextRetryAt: at });
    ctx.pending++;
    return;
  }
  const started = now();
  try {
    const driver = driverFor(ctx, a);
    await putSecretsFor(ctx, a, driver);
    await driver.apply(a);
    backoff.succeed(a.key);
    countAction(ctx, a, true);
    setStatus(ctx, r, a.type, 'Ready', DONE_REASON[a.type], a.reason);
    logger.info({ event: 'applied', action: a.type, kind: a.kind, id: a.id, revision: ctx.desired?.revision, durationMs: now() - started }, a.reason);
  } catch (err) {
    const fe = isFoundryError(err) ? err : new FoundryError('INTERNAL', String(err), { resource: a.id, cause: err });
    countAction(ctx, a, false);
    const entry = backoff.fail(a.key, hash, { code: fe.code, message: fe.message, retry: fe.retry });
    const at = new Date(entry.nextAttemptAt).toISOString();
    setStatus(ctx, r, a.type, fe.retry === 'transient' ? 'Reconciling' : 'Stalled', reasonOfCode(fe.code), `${a.type} failed: ${fe.message}`, { failures: entry.failures, nextRetryAt: at });
    logger.error({ event: 'apply-failed', action: a.type, kind: a.kind, id: a.id, code: fe.code, failures: entry.failures, nextRetryAt: at, revision: ctx.desired?.revision }, `${a.reason}: ${fe.message}`);
    ctx.pending++;
  }
}

/** Metrics of an applied action; drift when the node had converged to this very revision before (nothing in Git changed) or a workload was found stopped. */
function countAction(ctx: RunContext, a: Action, ok: boolean): void {
  const metrics = ctx.deps.metrics;
  if (metrics === undefined) return;
  metrics.action(a.kind, a.type === 'remove' ? 'delete' : a.type, a.cause ?? 'Unknown', ok);
  const sameRevision = ctx.appliedAtStart !== undefined && ctx.appliedAtStart === ctx.desired?.revision;
  if (ok && (sameRevision || a.cause === 'NotRunning')) metrics.driftRepaired(a.kind);
}

/** Observe again after changes: converged when nothing is left to do and nothing failed. */
async function checkConverged(ctx: RunContext): Promise<void> {
  const plan = ctx.plan!;
  const changed = plan.actions.some((a) => a.type !== 'noop');
  let leftover: Action[] = [];
  let after = ctx.observed;
  if (changed) {
    const handled = new Set(ctx.deps.drivers.flatMap(driverKeys).filter((k) => !ctx.unavailableKinds.has(k)));
    // What runs now (also after a failure elsewhere): a recreated container has a new host port to report.
    after = (await Promise.all(ctx.deps.drivers.filter((d) => driverKeys(d).every((k) => handled.has(k))).map((d) => d.list(ctx.deps.node)))).flat();
    const desired = ctx.desired!;
    if (ctx.pending === 0) leftover = planActions({ ...desired, resources: desired.resources.filter((r) => handled.has(runtimeKeyOf(r))) }, after).actions.filter((a) => a.type !== 'noop');
    for (const a of leftover) setStatus(ctx, actionResource(a), a.type, 'Reconciling', 'Progressing', `still to do after apply: ${a.reason}`);
  }
  recordPublishedPorts(ctx, after);
  const notReady = [...ctx.resources.values()].filter((r) => r.phase !== 'Ready').length;
  ctx.converged = !ctx.rejected && ctx.errors.length === 0 && ctx.pending === 0 && leftover.length === 0 && notReady === 0;
  if (ctx.converged && !ctx.usingFallback) ctx.memory.lastAppliedRevision = ctx.desired?.revision;
}

/** Each running container's status names the ports it published (address and host port), which the hub routes apps to. */
function recordPublishedPorts(ctx: RunContext, observed: ObservedResource[]): void {
  for (const o of observed) {
    if (o.kind !== 'container' || o.state !== 'running' || o.published === undefined || o.published.length === 0) continue;
    const entry = ctx.resources.get(resourceKey(o));
    if (entry !== undefined) entry.ports = o.published;
  }
}

function driverFor(ctx: RunContext, a: Action): RuntimeDriver {
  const key = runtimeKeyOf({ kind: a.kind, spec: a.desired?.spec, facts: a.observed?.facts });
  const d = ctx.deps.drivers.find((drv) => driverKeys(drv).includes(key));
  if (d === undefined) throw new FoundryError('INTERNAL', `no driver for ${key}`, { resource: a.id });
  return d;
}

/** The resource an action is about (desired when declared, observed otherwise). */
function actionResource(a: Action): DesiredResource | ObservedResource {
  return a.desired ?? a.observed!;
}

/** Records the status of resource `r`, keyed by its identity; the entry carries its kind and owning workspace or service, so readers never parse the id. */
function setStatus(ctx: RunContext, r: DesiredResource | ObservedResource, action: ActionType, phase: ResourceStatus['phase'], reason: string, message: string, extra: Partial<ResourceStatus> = {}): void {
  ctx.resources.set(resourceKey(r), { id: r.id, kind: r.kind, name: r.name, ...scopeOf(r.owner), phase, reason, message, action, ...extra });
}

function scopeOf(owner: Owner): Pick<ResourceStatus, 'workspace' | 'service'> {
  if (owner.workspace !== undefined) return { workspace: owner.workspace };
  if (owner.service !== undefined) return { service: owner.service };
  return {};
}

/** The runbook, in order. */
export const RUNBOOK: readonly (readonly [string, Step])[] = [
  ['fetch', fetchRevision],
  ['verify', verifySignature],
  ['load', loadRevision],
  ['render', renderDesired],
  ['fallback', keepLastGood],
  ['observe', observeRuntimes],
  ['secrets', resolveSecrets],
  ['plan', planChanges],
  ['hold', holdForSecrets],
  ['guard', guardMassPrune],
  ['apply', applyActions],
  ['converged', checkConverged],
  ['prune-secrets', pruneSecrets],
];

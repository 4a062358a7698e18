/**
 * Runs the reconcile runbook, one run at a time: a trigger during a run schedules exactly one more run
 * after it (however many triggers arrive). The final step always writes status.json and logs a summary.
 */
import { loadInfraDir } from '../../common/infra/load.js';
import { Backoff } from './backoff.js';
import { StopRun, recordError, type AgentMemory, type ReconcilerDeps, type RunContext } from './context.js';
import { loadLastGood } from './last-good.js';
import { RUNBOOK } from './steps.js';
import { conditionsFor, readStatus, writeStatus, type AgentStatus, type Condition } from './status.js';
import { reportsConditions, type RuntimeDriver } from '../drivers/driver.js';
import type { ReconcileOutcome, ReconcileStepLabel } from '../metrics/metrics-sink.js';

/** The runbook steps grouped into the step label of foundry_agent_reconcile_duration_seconds. */
const STEP_LABEL: Readonly<Record<string, ReconcileStepLabel>> = {
  fetch: 'fetch', verify: 'fetch', load: 'load', render: 'render', fallback: 'render', observe: 'observe', secrets: 'observe',
  plan: 'plan', hold: 'plan', guard: 'plan', apply: 'apply', converged: 'apply', 'prune-secrets': 'apply',
};

/** The outcome of one run. */
export interface ReconcileResult {
  converged: boolean;
  status: AgentStatus;
}

/** Options of one trigger. */
export interface TriggerOptions {
  /** Retry resources that are backing off now (an operator's `foundry agent sync`, `--once`). */
  ignoreBackoff?: boolean;
}

/** Deps with defaults filled in by the reconciler. */
export type ReconcilerInit = Omit<ReconcilerDeps, 'loadRepo' | 'now'> & Partial<Pick<ReconcilerDeps, 'loadRepo' | 'now'>> & { backoff: { baseDelayMs: number; maxDelayMs: number } };

/** The agent's reconciler. */
export class Reconciler {
  readonly deps: ReconcilerDeps;
  private readonly memory: AgentMemory;
  private running: Promise<ReconcileResult> | undefined;
  private queued: Promise<ReconcileResult> | undefined;
  private queuedReasons: string[] = [];
  private queuedIgnoreBackoff = false;
  private seeded = false;

  constructor(init: ReconcilerInit) {
    const { backoff, ...rest } = init;
    this.deps = { loadRepo: (dir, revision) => loadInfraDir(dir, { revision }), now: Date.now, ...rest };
    this.memory = { lastGood: undefined, lastAppliedRevision: undefined, backoff: new Backoff({ ...backoff, now: this.deps.now }) };
  }

  /** Runs a reconcile now, or schedules exactly one more after the current one; resolves with the run that covers this request. */
  trigger(reason: string, options: TriggerOptions = {}): Promise<ReconcileResult> {
    if (this.running === undefined) {
      const run = this.runOnce(reason, options.ignoreBackoff === true).finally(() => {
        this.running = undefined;
      });
      this.running = run;
      return run;
    }
    this.queuedReasons.push(reason);
    this.queuedIgnoreBackoff ||= options.ignoreBackoff === true;
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        const reasons = [...new Set(this.queuedReasons)].join(',');
        const ignoreBackoff = this.queuedIgnoreBackoff;
        this.queued = undefined;
        this.queuedReasons = [];
        this.queuedIgnoreBackoff = false;
        return this.trigger(reasons, { ignoreBackoff });
      });
    return this.queued;
  }

  /** True while a run is in progress. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** The last good revision, its repo and desired state (what the node converges towards), for telemetry and usage. */
  lastGood(): AgentMemory['lastGood'] {
    return this.memory.lastGood;
  }

  /** Poll interval the last good revision asks for (Cluster spec.pollInterval), if any. */
  repoPollIntervalMs(): number | undefined {
    return this.memory.lastGood?.facts.pollIntervalMs;
  }

  /** At start: the last good revision persisted before a restart, so a refused tip or an unreachable Git still converges to it. */
  private async restoreLastGood(): Promise<void> {
    if (this.memory.lastGood !== undefined) return;
    const found = await loadLastGood(this.deps.stateDir, this.deps.node);
    if (found === undefined) return;
    if ('problem' in found) {
      this.deps.logger.warn({ event: 'last-good-unusable', reason: found.problem }, `ignoring the persisted last good revision: ${found.problem}`);
      return;
    }
    this.memory.lastGood = found.good;
    this.deps.logger.info({ event: 'last-good-restored', revision: found.good.revision }, `restored the last good revision ${found.good.revision.slice(0, 12)} from the state dir`);
  }

  private async runOnce(trigger: string, ignoreBackoff: boolean): Promise<ReconcileResult> {
    if (!this.seeded) {
      this.seeded = true;
      // For display: what was applied before a restart. What runs is rebuilt from labels.
      this.memory.lastAppliedRevision = (await readStatus(this.deps.stateDir))?.lastAppliedRevision;
      await this.restoreLastGood();
    }
    const ctx: RunContext = {
      deps: this.deps,
      memory: this.memory,
      trigger,
      ignoreBackoff,
      startedAt: this.deps.now(),
      fetched: undefined,
      candidate: undefined,
      rejected: false,
      usingFallback: false,
      desired: undefined,
      observed: [],
      unavailableKinds: new Set(),
      plan: undefined,
      resources: new Map(),
      errors: [],
      issues: [],
      secretValues: new Map(),
      secretHolds: new Map(),
      appliedAtStart: this.memory.lastAppliedRevision,
      pending: 0,
      converged: false,
    };
    // Seconds and success of each step group of this run (metrics), in runbook order.
    const groups = new Map<ReconcileStepLabel, { seconds: number; ok: boolean }>();
    const timed = (name: string, startedAt: number, ok: boolean): void => {
      const label = STEP_LABEL[name];
      if (label === undefined) return;
      const g = groups.get(label) ?? { seconds: 0, ok: true };
      groups.set(label, { seconds: g.seconds + (this.deps.now() - startedAt) / 1000, ok: g.ok && ok });
    };
    this.deps.logger.debug({ event: 'reconcile-start', trigger }, 'reconcile started');
    for (const [name, step] of RUNBOOK) {
      const stepStart = this.deps.now();
      const errorsBefore = ctx.errors.length;
      try {
        await step(ctx);
        timed(name, stepStart, ctx.errors.length === errorsBefore);
        this.deps.logger.debug({ event: 'step', step: name, durationMs: this.deps.now() - stepStart }, `step ${name} done`);
      } catch (err) {
        timed(name, stepStart, false);
        if (!(err instanceof StopRun)) recordError(ctx, name, err);
        this.deps.logger.warn({ event: 'reconcile-stopped', step: name, reason: err instanceof Error ? err.message : String(err) }, `reconcile stopped at ${name}`);
        ctx.converged = false;
        break;
      }
    }
    const result = await this.writeStatusStep(ctx);
    const metrics = this.deps.metrics;
    if (metrics !== undefined) {
      for (const [label, g] of groups) metrics.reconcileStep(label, g.seconds, g.ok);
      metrics.reconcileDone(outcomeOf(ctx), (this.deps.now() - ctx.startedAt) / 1000, result.status.lastAppliedRevision);
    }
    try {
      this.deps.onResult?.(result);
    } catch (err) {
      this.deps.logger.warn({ event: 'on-result-failed', reason: err instanceof Error ? err.message : String(err) }, 'result listener failed');
    }
    return result;
  }

  /** Always the last step: build and write status.json, log the summary. */
  private async writeStatusStep(ctx: RunContext): Promise<ReconcileResult> {
    const finished = this.deps.now();
    const resources = [...ctx.resources.values()].sort((a, b) => a.id.localeCompare(b.id) || a.kind.localeCompare(b.kind));
    const good = this.memory.lastGood;
    const fallback = ctx.usingFallback && good !== undefined ? { revision: good.revision, restored: good.restored, reason: ctx.errors[0]?.message ?? 'the newest revision was refused' } : undefined;
    const status: AgentStatus = {
      node: this.deps.node,
      observedRevision: ctx.fetched?.revision,
      lastAppliedRevision: this.memory.lastAppliedRevision,
      desiredRevision: ctx.desired?.revision,
      ...(fallback === undefined ? {} : { runningFromLastGood: fallback }),
      conditions: [...conditionsFor({ converged: ctx.converged, errors: ctx.errors, resources, desiredRevision: ctx.desired?.revision, fallback }), ...(await runtimeConditions(this.deps.drivers))],
      resources,
      errors: ctx.errors,
      issues: ctx.issues,
      lastReconcile: {
        trigger: ctx.trigger,
        startedAt: new Date(ctx.startedAt).toISOString(),
        finishedAt: new Date(finished).toISOString(),
        durationMs: finished - ctx.startedAt,
        converged: ctx.converged,
        counts: ctx.plan?.counts,
      },
    };
    try {
      await writeStatus(this.deps.stateDir, status);
    } catch (err) {
      this.deps.logger.error({ event: 'status-write-failed', err: err instanceof Error ? err.message : String(err) }, 'cannot write status.json');
    }
    const c = ctx.plan?.counts;
    this.deps.logger.info(
      { event: 'reconciled', trigger: ctx.trigger, revision: ctx.fetched?.revision, desiredRevision: ctx.desired?.revision, converged: ctx.converged, counts: c, errors: ctx.errors.length, durationMs: finished - ctx.startedAt },
      ctx.converged ? 'converged' : `not converged: ${ctx.errors[0]?.message ?? `${ctx.pending} resources pending`}`,
    );
    return { converged: ctx.converged, status };
  }
}

/** A run's outcome for foundry_agent_reconcile_total: converged after changes, converged with nothing to do, or not converged. */
function outcomeOf(ctx: RunContext): ReconcileOutcome {
  if (!ctx.converged) return 'failed';
  return ctx.plan?.actions.some((a) => a.type !== 'noop') === true ? 'applied' : 'unchanged';
}

/** Conditions the drivers report about their runtimes (e.g. PodmanCapabilities); cached by each driver. */
async function runtimeConditions(drivers: RuntimeDriver[]): Promise<Condition[]> {
  const lists = await Promise.all(drivers.filter(reportsConditions).map((d) => d.conditions().catch(() => [])));
  return lists.flat();
}

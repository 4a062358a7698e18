/**
 * What the agent's parts tell its metrics, as plain calls: the reconciler, the apply step, the hub link
 * and the nvidia-smi runner call these where things happen. This module loads nothing: the Prometheus
 * side (prom-metrics.ts, prom-client) is imported only when `--metrics-listen` or `metrics.listen` is set,
 * so an agent without metrics never loads prom-client (docs/metrics.md).
 */

/** The steps of foundry_agent_reconcile_duration_seconds (runbook steps grouped, plus the whole run). */
export type ReconcileStepLabel = 'fetch' | 'load' | 'render' | 'observe' | 'plan' | 'apply' | 'total';

/** One reconcile pass's outcome: converged after changing something, converged with nothing to do, or not converged. */
export type ReconcileOutcome = 'applied' | 'unchanged' | 'failed';

/** The nvidia-smi queries timed separately (`other`: -q -x and -L, run only for the MIG layout). */
export type SmiQuery = 'gpu' | 'compute-apps' | 'other';

/** Receives the agent's measurements; every method is cheap and never throws. */
export interface AgentMetricsSink {
  /** One runbook step group of a pass took `seconds`; `ok` false when it failed or stopped the run. */
  reconcileStep(step: ReconcileStepLabel, seconds: number, ok: boolean): void;
  /** A pass ended; `appliedRevision` is the revision the node last converged to (status.lastAppliedRevision). */
  reconcileDone(outcome: ReconcileOutcome, seconds: number, appliedRevision: string | undefined): void;
  /** An action was applied; `reason` is the planner's reason code (ActionCause), never free text. */
  action(kind: string, action: string, reason: string, ok: boolean): void;
  /** An applied action repaired drift (the node had converged to this revision before, or a workload was found stopped). */
  driftRepaired(kind: string): void;
  /** The hub link opened (true) or closed (false). */
  hubLink(connected: boolean): void;
  /** One nvidia-smi run took `seconds`; `ok` false when it failed (timeout, exit code, busy); an absent nvidia-smi is not a failure. */
  smiCall(query: SmiQuery, seconds: number, ok: boolean): void;
  /** After each stats poll: each GPU with a health reading, healthy (healthy or degraded: placeable) or not; replaces the last poll's set. */
  gpuHealth(gpus: ReadonlyArray<{ labels: { gpu_uuid: string; model: string }; value: 0 | 1 }>): void;
}

/** The query label of an nvidia-smi argv. */
export function smiQueryOf(args: readonly string[]): SmiQuery {
  const first = args[0] ?? '';
  if (first.startsWith('--query-gpu')) return 'gpu';
  if (first.startsWith('--query-compute-apps')) return 'compute-apps';
  return 'other';
}

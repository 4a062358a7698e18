/**
 * The agent's own Prometheus metrics (prom-client, in a registry of their own): the AgentMetricsSink the
 * reconciler, the link and the GPU plugin call, and the outbox gauges read at scrape time. Loaded only when
 * the metrics endpoint is on (node-agent.ts imports this module lazily). Names: docs/metrics.md.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AgentMetricsSink, ReconcileOutcome, ReconcileStepLabel, SmiQuery } from './metrics-sink.js';

/** The outbox as the gauges read it at scrape time. */
export interface OutboxView {
  /** Records waiting for the hub's ack. */
  records(): number;
  /** Epoch ms the oldest waiting record was stored at; undefined when none waits. */
  oldestAt(): number | undefined;
}

/** Options of the agent's metrics. */
export interface PromAgentMetricsOptions {
  version: string;
  /** The outbox (absent on a node that is not enrolled: both gauges stay 0). */
  outbox?: () => OutboxView | undefined;
  now?: () => number;
}

const RECONCILE_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const SMI_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];

/** The agent's metrics in their own registry (`registry.metrics()` is what GET /metrics serves). */
export class PromAgentMetrics implements AgentMetricsSink {
  readonly registry = new Registry();
  private readonly reconciles: Counter<'result'>;
  private readonly durations: Histogram<'step' | 'result'>;
  private readonly lastSuccess: Gauge;
  private readonly appliedRevision: Gauge<'revision'>;
  private readonly actions: Counter<'kind' | 'action' | 'reason' | 'result'>;
  private readonly drift: Counter<'kind'>;
  private readonly connected: Gauge;
  private readonly reconnects: Counter;
  private readonly smiSeconds: Histogram<'query'>;
  private readonly smiFailures: Counter<'query'>;
  private readonly gpuHealthy: Gauge<'gpu_uuid' | 'model'>;
  private shownRevision: string | undefined;
  private everConnected = false;
  private readonly now: () => number;

  constructor(opts: PromAgentMetricsOptions) {
    const registers = [this.registry];
    this.now = opts.now ?? Date.now;
    new Gauge({ name: 'foundry_agent_build_info', help: 'Always 1; the version label names the agent build.', labelNames: ['version'], registers }).set({ version: opts.version }, 1);
    this.reconciles = new Counter({ name: 'foundry_agent_reconcile_total', help: 'Reconcile passes by result: applied (converged after changes), unchanged (converged, nothing to do), failed (not converged).', labelNames: ['result'], registers });
    for (const result of ['applied', 'unchanged', 'failed']) this.reconciles.inc({ result }, 0);
    this.durations = new Histogram({ name: 'foundry_agent_reconcile_duration_seconds', help: 'Time of each reconcile step group (fetch, load, render, observe, plan, apply) and of the whole pass (total).', labelNames: ['step', 'result'], buckets: RECONCILE_BUCKETS, registers });
    this.lastSuccess = new Gauge({ name: 'foundry_agent_last_reconcile_success_timestamp_seconds', help: 'Unix time of the last reconcile pass that did not fail (0 before the first).', registers });
    this.lastSuccess.set(0);
    this.appliedRevision = new Gauge({ name: 'foundry_agent_applied_revision_info', help: 'Always 1; the revision label names the revision the node last converged to.', labelNames: ['revision'], registers });
    this.actions = new Counter({ name: 'foundry_agent_actions_total', help: 'Actions applied, by resource kind, action, the planner\'s reason code and result.', labelNames: ['kind', 'action', 'reason', 'result'], registers });
    this.drift = new Counter({ name: 'foundry_agent_drift_repaired_total', help: 'Actions that repaired drift: what ran differed from a desired state that had not changed.', labelNames: ['kind'], registers });
    const outbox = opts.outbox;
    new Gauge({
      name: 'foundry_agent_outbox_records', help: 'Usage records and status transitions waiting in the durable outbox for the hub\'s ack.', registers,
      collect() { this.set(outbox?.()?.records() ?? 0); },
    });
    const now = this.now;
    new Gauge({
      name: 'foundry_agent_outbox_oldest_record_age_seconds', help: 'Age of the oldest record waiting in the outbox (0 when empty).', registers,
      collect() {
        const at = outbox?.()?.oldestAt();
        this.set(at === undefined ? 0 : Math.max(0, (now() - at) / 1000));
      },
    });
    this.connected = new Gauge({ name: 'foundry_agent_hub_connected', help: '1 while the WebSocket to the hub is open, else 0.', registers });
    this.connected.set(0);
    this.reconnects = new Counter({ name: 'foundry_agent_hub_reconnects_total', help: 'Times the link to the hub opened again after it had been open before.', registers });
    this.smiSeconds = new Histogram({ name: 'foundry_agent_nvidia_smi_duration_seconds', help: 'Time of each nvidia-smi run, by query.', labelNames: ['query'], buckets: SMI_BUCKETS, registers });
    this.smiFailures = new Counter({ name: 'foundry_agent_nvidia_smi_failures_total', help: 'nvidia-smi runs that failed (timeout, error exit, still busy), by query.', labelNames: ['query'], registers });
    for (const query of ['gpu', 'compute-apps']) this.smiFailures.inc({ query }, 0);
    this.gpuHealthy = new Gauge({ name: 'foundry_agent_gpu_healthy', help: 'Per GPU, from the last nvidia-smi poll: 1 healthy or degraded (placeable), 0 unhealthy (docs/gpu-health.md).', labelNames: ['gpu_uuid', 'model'], registers });
  }

  reconcileStep(step: ReconcileStepLabel, seconds: number, ok: boolean): void {
    this.durations.observe({ step, result: ok ? 'ok' : 'failed' }, seconds);
  }

  reconcileDone(outcome: ReconcileOutcome, seconds: number, appliedRevision: string | undefined): void {
    this.reconciles.inc({ result: outcome });
    this.durations.observe({ step: 'total', result: outcome === 'failed' ? 'failed' : 'ok' }, seconds);
    if (outcome !== 'failed') this.lastSuccess.set(Math.floor(this.now() / 1000));
    if (appliedRevision !== this.shownRevision) {
      // Only the current revision has a series.
      this.appliedRevision.reset();
      if (appliedRevision !== undefined) this.appliedRevision.set({ revision: appliedRevision }, 1);
      this.shownRevision = appliedRevision;
    }
  }

  action(kind: string, action: string, reason: string, ok: boolean): void {
    this.actions.inc({ kind, action, reason, result: ok ? 'ok' : 'failed' });
  }

  driftRepaired(kind: string): void {
    this.drift.inc({ kind });
  }

  hubLink(connected: boolean): void {
    this.connected.set(connected ? 1 : 0);
    if (!connected) return;
    if (this.everConnected) this.reconnects.inc();
    this.everConnected = true;
  }

  smiCall(query: SmiQuery, seconds: number, ok: boolean): void {
    this.smiSeconds.observe({ query }, seconds);
    if (!ok) this.smiFailures.inc({ query });
  }

  gpuHealth(gpus: ReadonlyArray<{ labels: { gpu_uuid: string; model: string }; value: 0 | 1 }>): void {
    // Only the GPUs of the last poll have a series (a GPU gone from nvidia-smi loses its old one).
    this.gpuHealthy.reset();
    for (const g of gpus) this.gpuHealthy.set(g.labels, g.value);
  }
}

/** The hub's Prometheus metrics (prom-client), in a registry of their own so several hubs can share a process. */
import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';
import { GpuMetrics } from './gpu-metrics.js';

/** Every metric the hub exports at /metrics. */
export interface HubMetrics {
  registry: Registry;
  connectedAgents: Gauge;
  messagesIn: Counter<'type'>;
  messagesOut: Counter<'type'>;
  protocolErrors: Counter<'code'>;
  ingestSeconds: Histogram;
  reconcileResults: Counter<'result'>;
  outboxItems: Counter<'outcome'>;
  /** Usage records refused by the admission gate, by reason (never billed). */
  usageRefused: Counter<'reason'>;
  /** Telemetry readings dropped before /metrics as out of range, by reason. */
  telemetryDropped: Counter<'reason'>;
  /** Pushes to the hosted infra repo: accepted (a branch moved) or refused (pre-receive validation refused every update). */
  gitPushes: Counter<'result'>;
  /** Per-GPU gauges from telemetry (foundry_gpu_*). */
  gpus: GpuMetrics;
}

/** Creates the metrics; `defaults` adds process metrics (CPU, memory, event-loop lag). */
export function createMetrics(options: { defaults?: boolean; gpuStaleMs?: number; now?: () => number } = {}): HubMetrics {
  const registry = new Registry();
  if (options.defaults === true) collectDefaultMetrics({ register: registry, prefix: 'foundry_hub_' });
  const registers = [registry];
  const gitPushes = new Counter<'result'>({ name: 'foundry_hub_git_pushes_total', help: 'Pushes to the hosted infra repo: accepted (a branch moved) or refused (the pre-receive validation refused them).', labelNames: ['result'], registers });
  for (const result of ['accepted', 'refused']) gitPushes.inc({ result }, 0);
  const telemetryDropped = new Counter<'reason'>({ name: 'foundry_hub_telemetry_dropped_total', help: 'GPU telemetry readings dropped before /metrics because they are out of range or name a GPU the node does not declare, by reason.', labelNames: ['reason'], registers });
  return {
    registry,
    connectedAgents: new Gauge({ name: 'foundry_hub_connected_agents', help: 'Agents connected over the WebSocket now.', registers }),
    messagesIn: new Counter({ name: 'foundry_hub_messages_in_total', help: 'Frames received from agents, by message type (invalid for frames that failed to decode).', labelNames: ['type'], registers }),
    messagesOut: new Counter({ name: 'foundry_hub_messages_out_total', help: 'Frames sent to agents, by message type.', labelNames: ['type'], registers }),
    protocolErrors: new Counter({ name: 'foundry_hub_protocol_errors_total', help: 'Frames refused, by error code.', labelNames: ['code'], registers }),
    ingestSeconds: new Histogram({
      name: 'foundry_hub_ingest_seconds',
      help: 'Time from receiving an outbox frame (usage, status) to sending its ack after the commit.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    reconcileResults: new Counter({ name: 'foundry_hub_reconcile_results_total', help: 'Reconcile outcomes reported by agents in status messages.', labelNames: ['result'], registers }),
    outboxItems: new Counter({ name: 'foundry_hub_outbox_items_total', help: 'Usage records and status transitions committed, new or duplicate (a resend after a lost ack).', labelNames: ['outcome'], registers }),
    usageRefused: new Counter({ name: 'foundry_hub_usage_refused_total', help: 'Usage records refused by the admission gate (acked as refused, never billed), by reason.', labelNames: ['reason'], registers }),
    telemetryDropped,
    gitPushes,
    gpus: new GpuMetrics(registry, { staleMs: options.gpuStaleMs, now: options.now, dropped: telemetryDropped }),
  };
}

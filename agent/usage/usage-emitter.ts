/**
 * Turns the agent's running observations into usage records (GPU allocations, and the vCPUs, memory and
 * storage of running workspaces that declare them), one resolution slot at a time, and hands
 * each to a sink (the hub link's durable outbox). A record the sink refuses stays queued, in order, for
 * the next tick; what the sink accepted is the outbox's to keep. After a restart, emission starts again
 * from the first new observation: time nobody observed is not billed.
 */
import { resourceRecords } from './resource-records.js';
import { usageRecords, type UsageWindow } from './gpu-records.js';
import { DEFAULT_USAGE_RESOLUTION_MS, type AllocationObservation, type AnyUsageRecord, type UtilizationSample, type WorkspaceAllocation } from './usage-types.js';
import { compareText } from '../../common/text-order.js';

/** GPU and resource records of a window, by start, then workspace, GPU records before the resource record. */
export function windowRecords(w: UsageWindow): AnyUsageRecord[] {
  const rank = (r: AnyUsageRecord): string => (r.kind === 'gpu-allocation' ? `0${r.gpuUuid}` : '1');
  return [...usageRecords(w), ...resourceRecords(w)].sort((a, b) => a.from - b.from || compareText(a.workspace, b.workspace) || compareText(rank(a), rank(b)));
}

/** Collaborators and settings of the emitter. */
export interface UsageEmitterOptions {
  node: string;
  /** Accepts one record durably; a throw or rejection keeps it (and those after it) for the next tick. */
  sink: (record: AnyUsageRecord) => void | Promise<void>;
  /** Epoch ms (default Date.now). */
  clock?: () => number;
  resolutionMs?: number;
  /** Told when the sink refuses a record (it is kept and retried on the next tick). */
  onSinkError?: (err: unknown, record: AnyUsageRecord) => void;
}

/** Collects observations and samples; `tick()` emits the records of every completed slot. */
export class UsageEmitter {
  private readonly node: string;
  private readonly sink: UsageEmitterOptions['sink'];
  private readonly clock: () => number;
  private readonly onSinkError: UsageEmitterOptions['onSinkError'];
  readonly resolutionMs: number;
  private observations: AllocationObservation[] = [];
  private samples: UtilizationSample[] = [];
  private emittedUntil: number | undefined;
  private pending: AnyUsageRecord[] = [];
  private ticking: Promise<AnyUsageRecord[]> | undefined;

  constructor(opts: UsageEmitterOptions) {
    this.node = opts.node;
    this.sink = opts.sink;
    this.clock = opts.clock ?? Date.now;
    this.resolutionMs = opts.resolutionMs ?? DEFAULT_USAGE_RESOLUTION_MS;
    this.onSinkError = opts.onSinkError;
  }

  /** Records what runs now (call at least once per slot, e.g. on every telemetry poll). */
  observe(workspaces: WorkspaceAllocation[]): void {
    const at = this.clock();
    // Billing starts with the first whole slot after the first observation: before it, nobody looked.
    this.emittedUntil ??= Math.ceil(at / this.resolutionMs) * this.resolutionMs;
    if (at >= this.emittedUntil) this.observations.push({ at, workspaces });
  }

  /** Adds a GPU sample for the measured-utilization average (a GpuStats fits). */
  sample(s: UtilizationSample): void {
    if (this.emittedUntil === undefined || s.at >= this.emittedUntil) this.samples.push({ at: s.at, gpus: s.gpus.map((g) => ({ uuid: g.uuid, utilizationGpuPct: g.utilizationGpuPct })) });
  }

  /** Records queued because the sink refused them. */
  get backlog(): number {
    return this.pending.length;
  }

  /** Emits the records of all slots completed by now; returns those the sink accepted. Single-flight. */
  tick(): Promise<AnyUsageRecord[]> {
    this.ticking ??= this.doTick().finally(() => { this.ticking = undefined; });
    return this.ticking;
  }

  private async doTick(): Promise<AnyUsageRecord[]> {
    const end = Math.floor(this.clock() / this.resolutionMs) * this.resolutionMs;
    if (this.emittedUntil !== undefined && end > this.emittedUntil) {
      this.pending.push(...windowRecords({ node: this.node, fromMs: this.emittedUntil, toMs: end, resolutionMs: this.resolutionMs, observations: this.observations, samples: this.samples }));
      this.emittedUntil = end;
      this.observations = this.observations.filter((o) => o.at >= end);
      this.samples = this.samples.filter((s) => s.at >= end);
    }
    const accepted: AnyUsageRecord[] = [];
    while (this.pending.length > 0) {
      const next = this.pending[0] as AnyUsageRecord;
      try {
        await this.sink(next);
      } catch (err) {
        this.onSinkError?.(err, next);
        break; // kept, in order, for the next tick
      }
      this.pending.shift();
      accepted.push(next);
    }
    return accepted;
  }
}

/**
 * The telemetry tick the agent runs every interval (default 5 s): one GPU poll, one host sample, a
 * telemetry body handed to `send` (best effort), and the usage emitter fed and ticked (its sink is the
 * hub link's outbox). A failing nvidia-smi costs that tick's GPU readings, never the host sample or the
 * usage observation: allocation is about what runs, not about whether nvidia-smi answered.
 */
import { isFoundryError } from '../common/errors.js';
import { collectHostMetrics, type HostMetrics } from './host/host-metrics.js';
import { telemetryBody, type GpuHolder, type TelemetryBody } from './gpu/telemetry-body.js';
import { declaredHolders } from './gpu/gpu-holders.js';
import type { NvidiaGpuPlugin, GpuLogger } from './gpu/nvidia-plugin.js';
import type { GpuStats } from './gpu/types.js';
import type { UsageEmitter } from './usage/usage-emitter.js';
import type { WorkspaceAllocation } from './usage/usage-types.js';

/** Collaborators of the loop. */
export interface TelemetryLoopOptions {
  node: string;
  gpu: Pick<NvidiaGpuPlugin, 'stats'>;
  /** Host sample (default collectHostMetrics()). */
  host?: () => Promise<HostMetrics>;
  /** Hands a telemetry body to the hub link (best effort: a throw is logged, not retried). */
  send: (body: TelemetryBody) => void | Promise<void>;
  /** Usage emitter and what runs now; both optional (service and Ceph nodes bill nothing). */
  usage?: UsageEmitter;
  allocations?: () => WorkspaceAllocation[] | Promise<WorkspaceAllocation[]>;
  /**
   * Holders of GPUs no allocation declares, from process attribution (optional): called only with the
   * UUIDs of undeclared GPUs that have compute processes. Its answer labels the telemetry, nothing else.
   */
  attribute?: (gpu: GpuStats, unheld: ReadonlySet<string>) => Promise<ReadonlyMap<string, GpuHolder>>;
  /** Interval between ticks (default 5 s); a function is read again before each tick (the Cluster's telemetryInterval may change). */
  intervalMs?: number | (() => number | undefined);
  logger?: GpuLogger;
}

/** What one tick did, for tests and status. */
export interface TelemetryTickResult {
  gpu: GpuStats | undefined;
  gpuError: string | undefined;
  sent: boolean;
  usageRecords: number;
}

/** Runs the telemetry tick on an interval; `tickOnce()` runs one (single-flight). */
export class TelemetryLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<TelemetryTickResult> | undefined;

  constructor(private readonly o: TelemetryLoopOptions) {}

  /** Starts ticking every intervalMs (default 5 s); the timer does not keep the process alive. */
  start(): void {
    if (this.timer !== undefined) return;
    this.schedule();
  }

  /** The interval the next tick waits (at least 100 ms). */
  currentIntervalMs(): number {
    const v = typeof this.o.intervalMs === 'function' ? this.o.intervalMs() : this.o.intervalMs;
    return Math.max(100, v ?? 5_000);
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      void this.tickOnce().catch(() => undefined);
      if (this.timer !== undefined) this.schedule();
    }, this.currentIntervalMs());
    this.timer.unref();
  }

  /** Stops ticking (a tick in flight completes). */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One tick; a call while one runs joins it, so slow ticks never overlap. */
  tickOnce(): Promise<TelemetryTickResult> {
    this.running ??= this.tick().finally(() => { this.running = undefined; });
    return this.running;
  }

  private async tick(): Promise<TelemetryTickResult> {
    let gpu: GpuStats | undefined;
    let gpuError: string | undefined;
    try {
      gpu = await this.o.gpu.stats();
    } catch (err) {
      gpuError = isFoundryError(err) ? `${err.code}: ${err.message}` : String(err);
      this.o.logger?.warn({ err: isFoundryError(err) ? err.toJSON() : String(err) }, 'gpu poll failed');
    }
    const host = await (this.o.host ?? (() => collectHostMetrics()))();
    // What runs now, computed once: it labels the telemetry (workspace, tenant) and feeds usage.
    let allocations: WorkspaceAllocation[] = [];
    let allocationError: unknown;
    try {
      allocations = this.o.allocations !== undefined ? await this.o.allocations() : [];
    } catch (err) {
      allocationError = err;
      this.o.logger?.warn({ err: String(err) }, 'allocations unavailable');
    }
    let sent = false;
    try {
      await this.o.send(telemetryBody(this.o.node, gpu, host, await this.holders(gpu, allocations)));
      sent = true;
    } catch (err) {
      this.o.logger?.warn({ err: String(err) }, 'telemetry not sent');
    }
    let usageRecords = 0;
    if (this.o.usage !== undefined) {
      // Time nobody observed is never billed either way: without allocations the tick fails, as before.
      if (allocationError !== undefined) throw allocationError;
      this.o.usage.observe(allocations);
      if (gpu !== undefined) this.o.usage.sample(gpu);
      usageRecords = (await this.o.usage.tick()).length;
    }
    return { gpu, gpuError, sent, usageRecords };
  }

  private async holders(gpu: GpuStats | undefined, allocations: WorkspaceAllocation[]): Promise<Map<string, GpuHolder>> {
    const held = declaredHolders(allocations);
    if (gpu === undefined || this.o.attribute === undefined) return held;
    const unheld = new Set(gpu.processes.map((p) => p.gpuUuid).filter((u): u is string => u !== null && !held.has(u) && gpu.gpus.some((g) => g.uuid === u)));
    if (unheld.size === 0) return held;
    try {
      for (const [uuid, h] of await this.o.attribute(gpu, unheld)) if (unheld.has(uuid)) held.set(uuid, h);
    } catch (err) {
      this.o.logger?.warn({ err: String(err) }, 'gpu attribution failed');
    }
    return held;
  }
}

/**
 * The GPU module, shaped like a device plugin: `fingerprint()` (slow inventory) and `stats()` (a sample of
 * every GPU and compute process). CSV for everything it can; `-q -x` and `-L` only for the MIG layout.
 * No nvidia-smi or no GPU is not an error: the node has zero GPUs, and that is logged once, not per poll.
 */
import { FoundryError, isFoundryError } from '../../common/errors.js';
import { SmiRunner, NOT_FOUND, type SmiExec, type SmiRunResult } from './smi-runner.js';
import { HEALTH_FIELDS, INVENTORY_FIELDS, invalidField, parseInventoryCsv, parseStatsOutput, queryGpuArgs, statsFields } from './query-gpu.js';
import { lostGpuHealth, splitLostGpus } from './health.js';
import { computeAppsArgs, parseComputeAppsCsv } from './query-compute-apps.js';
import { parseSmiXml, type SmiXmlReport } from './smi-xml.js';
import { parseListGpus, type ListedGpu } from './list-gpus.js';
import { mergeInventory } from './inventory.js';
import type { GpuDevice, GpuInventory, GpuSample, GpuStats } from './types.js';
import { smiQueryOf, type AgentMetricsSink } from '../metrics/metrics-sink.js';
import { gpuHealthGauge } from './health-gauge.js';

/** A pino-compatible logger (only what this module uses). */
export interface GpuLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Collaborators of the plugin; all optional. */
export interface NvidiaPluginOptions {
  /** Runs nvidia-smi (default: a SmiRunner with `command` and `timeoutMs`). */
  exec?: SmiExec;
  command?: string;
  timeoutMs?: number;
  /** Epoch ms (default Date.now). */
  clock?: () => number;
  logger?: GpuLogger;
  /** Told the time and outcome of every nvidia-smi run (the agent's metrics). */
  metrics?: Pick<AgentMetricsSink, 'smiCall' | 'gpuHealth'>;
}

// nvidia-smi exits 6 and prints this when the driver is loaded but sees no GPU (or the last one fell off).
const NO_DEVICES = /no devices were found/i;

type Outcome = { kind: 'output'; stdout: string } | { kind: 'absent'; reason: string };

/** The nvidia GPU device plugin. One instance per node; calls are single-flight and serialised. */
export class NvidiaGpuPlugin {
  private readonly exec: SmiExec;
  private readonly clock: () => number;
  private readonly logger: GpuLogger | undefined;
  private readonly metrics: NvidiaPluginOptions['metrics'];
  private readonly command: string;
  private chain: Promise<unknown> = Promise.resolve();
  private pendingStats: Promise<GpuStats> | undefined;
  private pendingFingerprint: Promise<GpuInventory> | undefined;
  private lastAbsence: string | undefined;
  /** The last inventory with GPUs: a GPU nvidia-smi can no longer reach is found in it by PCI bus id. */
  private known: GpuDevice[] = [];
  /** Health fields this driver refused as unknown (older drivers): left out of later queries. */
  private readonly dropped = new Set<string>();

  constructor(opts: NvidiaPluginOptions = {}) {
    this.command = opts.command ?? 'nvidia-smi';
    this.exec = opts.exec ?? new SmiRunner({ command: this.command, timeoutMs: opts.timeoutMs }).run;
    this.clock = opts.clock ?? Date.now;
    this.logger = opts.logger;
    this.metrics = opts.metrics;
  }

  /** The slow inventory: UUID, model, memory, driver, PCI bus id, MIG mode and MIG devices. */
  fingerprint(): Promise<GpuInventory> {
    this.pendingFingerprint ??= this.serial(() => this.doFingerprint()).finally(() => { this.pendingFingerprint = undefined; });
    return this.pendingFingerprint;
  }

  /** One sample of every GPU and every compute process; a call while one runs joins it. */
  stats(): Promise<GpuStats> {
    this.pendingStats ??= this.serial(() => this.doStats()).finally(() => { this.pendingStats = undefined; });
    return this.pendingStats;
  }

  // Fingerprint and stats never overlap: at most one nvidia-smi at a time, and the queue is at most
  // one of each (both are single-flight), so callers cannot pile up either.
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async doFingerprint(): Promise<GpuInventory> {
    const inv = await this.call(queryGpuArgs(INVENTORY_FIELDS));
    if (inv.kind === 'absent') return { available: false, reason: inv.reason, gpus: [] };
    const rows = parseInventoryCsv(splitLostGpus(inv.stdout).rest);
    if (rows.length === 0) {
      this.absent('no gpu found');
      return { available: false, reason: 'no gpu found', gpus: [] };
    }
    this.present();
    let xml: SmiXmlReport | undefined;
    let listed: ListedGpu[] | undefined;
    if (rows.some((r) => r.migEnabled === true)) {
      // The MIG layout is the one thing the CSV interface lacks. A failure here degrades to what -L says.
      try {
        const x = await this.call(['-q', '-x']);
        if (x.kind === 'output') xml = parseSmiXml(x.stdout);
      } catch (err) {
        this.logger?.warn({ err: isFoundryError(err) ? err.toJSON() : String(err) }, 'nvidia-smi -q -x failed; mig instance ids unknown');
      }
      const l = await this.call(['-L']);
      if (l.kind === 'output') listed = parseListGpus(l.stdout);
    }
    this.known = mergeInventory(rows, xml, listed);
    return { available: true, gpus: this.known };
  }

  private async doStats(): Promise<GpuStats> {
    const { q, fields } = await this.queryStats();
    if (q.kind === 'absent') {
      // GPUs that were there and that the driver no longer sees at all have fallen off the bus (XID 79)
      const gone = q.reason === 'no gpu found' ? this.lostSamples(this.known.flatMap((d) => (d.pciBusId === null ? [] : [{ pciBusId: d.pciBusId, reason: q.reason }])), []) : [];
      if (gone.length > 0) {
        const stats: GpuStats = { at: this.clock(), available: true, gpus: gone, processes: [] };
        this.metrics?.gpuHealth(gpuHealthGauge(stats));
        return stats;
      }
      return { at: this.clock(), available: false, reason: q.reason, gpus: [], processes: [] };
    }
    const parsed = parseStatsOutput(q.stdout, fields);
    const gpus = [...parsed.gpus, ...this.lostSamples(parsed.lost, parsed.gpus)];
    const p = await this.call(computeAppsArgs());
    const processes = p.kind === 'output' ? parseComputeAppsCsv(splitLostGpus(p.stdout).rest) : [];
    if (gpus.length === 0) this.absent('no gpu found');
    else this.present();
    const stats: GpuStats = { at: this.clock(), available: gpus.length > 0, ...(gpus.length === 0 ? { reason: 'no gpu found' } : {}), gpus, processes };
    this.metrics?.gpuHealth(gpuHealthGauge(stats));
    return stats;
  }

  // The stats query; a health field the driver does not know is dropped (logged once) and the query retried.
  private async queryStats(): Promise<{ q: Outcome; fields: string[] }> {
    for (;;) {
      const fields = statsFields(this.dropped);
      try {
        return { q: await this.call(queryGpuArgs(fields)), fields };
      } catch (err) {
        const bad = isFoundryError(err, 'NVIDIA_SMI') ? err.details?.['invalidField'] : undefined;
        if (typeof bad !== 'string' || !(HEALTH_FIELDS as readonly string[]).includes(bad) || this.dropped.has(bad)) throw err;
        this.dropped.add(bad);
        this.logger?.warn({ field: bad }, 'nvidia-smi does not know this health field; health is read without it');
      }
    }
  }

  // A GPU of the inventory that nvidia-smi names as unreachable: a sample with no readings, unhealthy.
  private lostSamples(lost: ReturnType<typeof splitLostGpus>['lost'], read: GpuSample[]): GpuSample[] {
    const out: GpuSample[] = [];
    for (const l of lost) {
      const dev = this.known.find((d) => d.pciBusId === l.pciBusId);
      if (dev === undefined || read.some((g) => g.uuid === dev.uuid)) {
        if (dev === undefined) this.logger?.warn({ pciBusId: l.pciBusId, reason: l.reason }, 'nvidia-smi cannot reach a gpu that is not in the inventory');
        continue;
      }
      out.push({
        uuid: dev.uuid, index: dev.index, model: dev.model, pciBusId: dev.pciBusId, utilizationGpuPct: null, utilizationMemoryPct: null,
        memoryUsedMiB: null, memoryTotalMiB: dev.memoryTotalMiB, powerDrawW: null, powerLimitW: null, temperatureC: null, smClockMHz: null, memClockMHz: null,
        health: lostGpuHealth(),
      });
    }
    return out;
  }

  // One nvidia-smi call, timed for the metrics: a typed error is a failure, output or absence is not.
  private async call(args: string[]): Promise<Outcome> {
    if (this.metrics === undefined) return this.callOnce(args);
    const started = performance.now();
    let ok = false;
    try {
      const outcome = await this.callOnce(args);
      ok = true;
      return outcome;
    } finally {
      this.metrics.smiCall(smiQueryOf(args), (performance.now() - started) / 1000, ok);
    }
  }

  // One nvidia-smi call, its failure modes sorted into: output, "no GPU/no nvidia-smi", or a typed error.
  private async callOnce(args: string[]): Promise<Outcome> {
    let r: SmiRunResult;
    try {
      r = await this.exec(args);
    } catch (err) {
      if (isFoundryError(err, 'NVIDIA_SMI') && err.details?.['reason'] === NOT_FOUND) {
        const reason = `${this.command} not found`;
        this.absent(reason);
        return { kind: 'absent', reason };
      }
      throw err;
    }
    if (NO_DEVICES.test(r.stdout) || NO_DEVICES.test(r.stderr)) {
      this.absent('no gpu found');
      return { kind: 'absent', reason: 'no gpu found' };
    }
    // A GPU nvidia-smi cannot reach is named on a line of its own (stdout or stderr, exit 15 on most
    // drivers) while the other GPUs are still read: that is output, not a failed call.
    const lostLines = [r.stdout, r.stderr].flatMap((t) => t.split('\n')).filter((l) => splitLostGpus(l).lost.length > 0);
    if (lostLines.length > 0) return { kind: 'output', stdout: `${splitLostGpus(r.stdout).rest}\n${lostLines.join('\n')}\n` };
    if (r.code !== 0) {
      const first = (r.stdout.trim() || r.stderr.trim()).split('\n')[0]?.slice(0, 200) ?? '';
      const bad = invalidField(`${r.stdout}\n${r.stderr}`);
      throw new FoundryError('NVIDIA_SMI', `nvidia-smi exited with ${r.code ?? 'a signal'}${first ? `: ${first.toLowerCase()}` : ''}`, {
        resource: `${this.command} ${(args[0] ?? '').split('=')[0]}`.trim(), details: { code: r.code, ...(bad !== undefined ? { invalidField: bad } : {}) },
      });
    }
    return { kind: 'output', stdout: r.stdout };
  }

  // Logged once per change, so a GPU-less node does not log every poll.
  private absent(reason: string): void {
    if (this.lastAbsence !== reason) this.logger?.info({ reason }, 'no gpus reported: node has zero gpus');
    this.lastAbsence = reason;
  }

  private present(): void {
    if (this.lastAbsence !== undefined) this.logger?.info({}, 'gpus reported again');
    this.lastAbsence = undefined;
  }
}

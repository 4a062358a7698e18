/**
 * Group commit for the agents' outbox frames: everything received since the last commit (at most one
 * per 10 ms, else at the end of the event-loop turn) is committed in one SQLite transaction, and only
 * then acknowledged, per connection. Presence updates get
 * a transaction of their own in the same turn; telemetry is buffered and written every few seconds.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { HubStore, InboxItem } from '../store/hub-store.js';
import type { HubMetrics } from '../metrics.js';
import type { TelemetryMessage } from '../../common/protocol/codec.js';
import { TelemetryBuffer, type TelemetrySample, type TelemetryRollup } from '../store/telemetry-buffer.js';
import { errorMessage } from '../../common/errors.js';

/** Telemetry rollups older than this are deleted (the dashboard shows at most a week). */
export const TELEMETRY_RETENTION_MS = 7 * 24 * 3600_000;
const PRUNE_EVERY_MS = 3600_000;

/** A usage record the admission gate refused, as the ack reports it. */
export interface RefusedSeq {
  seq: number;
  reason: string;
  field?: string;
}

/** Whoever receives the acks of the items it queued. */
export interface AckTarget {
  /** Called after the commit with the seqs now durable; `refused` lists those of them stored as refused. */
  ack(seqs: number[], refused: RefusedSeq[]): void;
  /** Called when the commit failed: nothing of this batch is acked; the peer must resend. */
  commitFailed(err: unknown): void;
}

/** Shortest time between two outbox commits (each waits for the disk): bounds fsyncs to 100 a second. */
const COMMIT_WINDOW_MS = 10;

/** Telemetry rows written per event-loop turn. */
const TELEMETRY_CHUNK = 250;

/** A telemetry write in progress: rows before `at` are written. */
interface TelemetryWrite {
  latest: TelemetrySample[];
  rollups: TelemetryRollup[];
  at: number;
}

interface Pending {
  item: InboxItem;
  target: AckTarget;
  receivedAt: number;
}

/** Batches outbox items and telemetry per event-loop turn. */
export class IngestQueue {
  private pending: Pending[] = [];
  private readonly telemetry = new TelemetryBuffer();
  private readonly telemetryTimer: NodeJS.Timeout;
  private lastPrune = 0;
  private lastCommit = -Infinity;
  private writing: TelemetryWrite | undefined;
  private presence: Array<() => void> = [];
  private scheduled = false;

  constructor(
    private readonly store: HubStore,
    private readonly metrics: HubMetrics,
    private readonly log: FastifyBaseLogger,
    private readonly clock: () => number = () => performance.now(),
    telemetryFlushMs = 5000,
  ) {
    this.telemetryTimer = setInterval(() => this.flushTelemetry(), telemetryFlushMs);
    this.telemetryTimer.unref();
  }

  /** Queues an outbox item; its ack goes to `target` after the commit. */
  add(target: AckTarget, item: InboxItem): void {
    this.pending.push({ item, target, receivedAt: this.clock() });
    this.schedule();
  }

  /**
   * Queues a presence update (hello, connected, disconnected), committed together at the end of the
   * turn: one fsync per turn instead of one per agent when thousands reconnect at once.
   */
  defer(update: () => void): void {
    this.presence.push(update);
    this.schedule();
  }

  /** Buffers a telemetry sample (written by the periodic telemetry flush). */
  addTelemetry(sample: TelemetryMessage['body']): void {
    this.telemetry.add(sample);
  }

  /**
   * Starts writing buffered telemetry, TELEMETRY_CHUNK rows per event-loop turn so that acks of usage
   * records are not held up behind ten thousand upserts; once an hour also drops old rollups.
   */
  flushTelemetry(): void {
    if (this.telemetry.empty || this.writing !== undefined) return;
    const t = this.telemetry.drain();
    this.writing = { ...t, at: 0 };
    this.writeTelemetryChunk(this.writing);
  }

  private writeTelemetryChunk(w: TelemetryWrite, all = false): void {
    if (this.writing !== w) return;
    const end = all ? Infinity : w.at + TELEMETRY_CHUNK;
    try {
      this.store.writeTelemetry({ latest: w.latest.slice(w.at, end), rollups: w.rollups.slice(w.at, end) });
    } catch (err) {
      this.log.warn({ err: errorMessage(err), nodes: w.latest.length }, 'telemetry dropped: store write failed');
      this.writing = undefined;
      return;
    }
    w.at = end;
    if (w.at < Math.max(w.latest.length, w.rollups.length)) {
      setImmediate(() => this.writeTelemetryChunk(w));
      return;
    }
    this.writing = undefined;
    const now = Date.now();
    if (now - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = now;
      this.store.pruneTelemetry(now - TELEMETRY_RETENTION_MS);
    }
  }

  /** Final flush on shutdown: outbox items, presence and all telemetry, synchronously; stops the timer. */
  close(): void {
    clearInterval(this.telemetryTimer);
    this.flush();
    if (this.writing !== undefined) this.writeTelemetryChunk(this.writing, true);
    this.flushTelemetry();
    if (this.writing !== undefined) this.writeTelemetryChunk(this.writing, true);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Group commit: at most one fsync per COMMIT_WINDOW_MS. Each fsync blocks the event loop (better-sqlite3
    // is synchronous), so committing every turn under load would spend the loop waiting for the disk.
    const wait = this.lastCommit + COMMIT_WINDOW_MS - this.clock();
    if (wait > 0) setTimeout(() => this.flush(), wait);
    else setImmediate(() => this.flush());
  }

  /** Commits and acks everything queued now (also called on shutdown). */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    const presence = this.presence;
    this.pending = [];
    this.presence = [];
    if (batch.length > 0) this.commit(batch);
    if (presence.length > 0) {
      try {
        this.store.relaxedTransaction(() => presence.forEach((update) => update()));
      } catch (err) {
        this.log.warn({ err: errorMessage(err), updates: presence.length }, 'presence updates dropped: store write failed');
      }
    }
  }

  private commit(batch: Pending[]): void {
    const byTarget = new Map<AckTarget, { seqs: number[]; refused: RefusedSeq[] }>();
    this.lastCommit = this.clock();
    try {
      const fresh = this.store.ingest(batch.map((p) => p.item));
      this.metrics.outboxItems.inc({ outcome: 'new' }, fresh);
      if (batch.length > fresh) this.metrics.outboxItems.inc({ outcome: 'duplicate' }, batch.length - fresh);
    } catch (err) {
      this.log.error({ err: errorMessage(err), items: batch.length }, 'outbox commit failed; nothing acked');
      new Set(batch.map((p) => p.target)).forEach((t) => t.commitFailed(err));
      return;
    }
    const now = this.clock();
    for (const p of batch) {
      const acks = byTarget.get(p.target) ?? { seqs: [], refused: [] };
      acks.seqs.push(p.item.seq);
      const r = p.item.refusal;
      if (p.item.kind === 'usage-refused' && r !== undefined && !this.store.hasUsage(p.item.node, p.item.seq)) acks.refused.push(r.field === undefined ? { seq: p.item.seq, reason: r.reason } : { seq: p.item.seq, reason: r.reason, field: r.field.slice(0, 128) });
      byTarget.set(p.target, acks);
      this.metrics.ingestSeconds.observe((now - p.receivedAt) / 1000);
    }
    byTarget.forEach((acks, target) => target.ack(acks.seqs, acks.refused));
  }
}

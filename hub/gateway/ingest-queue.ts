/**
 * Group commit for the agents' outbox frames: everything received since the last commit (at most one
 * per 10 ms and one at a time, else at the end of the event-loop turn) is committed in one transaction,
 * and only then acknowledged, per connection. Presence updates get
 * a transaction of their own in the same turn; telemetry is buffered and written every few seconds.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { HubStore, InboxItem, IngestResult } from '../store/hub-store.js';
import type { SqlExecutor } from '../store/sql/sql.js';
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

/** A presence update (hello, connected, disconnected), run inside the turn's presence transaction. */
export type PresenceUpdate = (tx: SqlExecutor) => Promise<void>;

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
  private writing: Promise<void> | undefined;
  private committing: Promise<void> | undefined;
  private presence: PresenceUpdate[] = [];
  private scheduled = false;

  constructor(
    private readonly store: HubStore,
    private readonly metrics: HubMetrics,
    private readonly log: FastifyBaseLogger,
    private readonly clock: () => number = () => performance.now(),
    telemetryFlushMs = 5000,
  ) {
    this.telemetryTimer = setInterval(() => void this.flushTelemetry(), telemetryFlushMs);
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
  defer(update: PresenceUpdate): void {
    this.presence.push(update);
    this.schedule();
  }

  /** Buffers a telemetry sample (written by the periodic telemetry flush). */
  addTelemetry(sample: TelemetryMessage['body']): void {
    this.telemetry.add(sample);
  }

  /**
   * Starts writing buffered telemetry, TELEMETRY_CHUNK rows per transaction so that acks of usage records
   * are not held up behind ten thousand upserts; once an hour also drops old rollups. Never throws.
   */
  flushTelemetry(all = false): Promise<void> {
    if (this.writing !== undefined) return this.writing;
    if (this.telemetry.empty) return Promise.resolve();
    const t = this.telemetry.drain();
    this.writing = this.writeTelemetry(t, all).finally(() => (this.writing = undefined));
    return this.writing;
  }

  private async writeTelemetry(t: { latest: TelemetrySample[]; rollups: TelemetryRollup[] }, all: boolean): Promise<void> {
    const step = all ? Infinity : TELEMETRY_CHUNK;
    try {
      for (let at = 0; at < Math.max(t.latest.length, t.rollups.length); at += step) {
        await this.store.writeTelemetry({ latest: t.latest.slice(at, at + step), rollups: t.rollups.slice(at, at + step) });
        // let acks of usage records through between chunks
        if (!all) await new Promise((resolve) => setImmediate(resolve));
      }
      const now = Date.now();
      if (now - this.lastPrune > PRUNE_EVERY_MS) {
        this.lastPrune = now;
        await this.store.pruneTelemetry(now - TELEMETRY_RETENTION_MS);
      }
    } catch (err) {
      this.log.warn({ err: errorMessage(err), nodes: t.latest.length }, 'telemetry dropped: store write failed');
    }
  }

  /** Final flush on shutdown: outbox items, presence and all telemetry; stops the timer. */
  async close(): Promise<void> {
    clearInterval(this.telemetryTimer);
    await this.flush();
    await this.writing;
    await this.flushTelemetry(true);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Group commit: at most one commit per COMMIT_WINDOW_MS, and one at a time; what arrives meanwhile
    // waits for the next. Each commit waits for the disk (fsync), so committing every turn under load
    // would spend the time waiting for the disk instead of batching.
    const wait = this.lastCommit + COMMIT_WINDOW_MS - this.clock();
    if (wait > 0) setTimeout(() => void this.flush(), wait);
    else setImmediate(() => void this.flush());
  }

  /** Commits and acks everything queued now (also called on shutdown); resolves when it is committed. Never throws. */
  async flush(): Promise<void> {
    this.scheduled = false;
    while (this.committing !== undefined) await this.committing;
    const batch = this.pending;
    const presence = this.presence;
    this.pending = [];
    this.presence = [];
    if (batch.length === 0 && presence.length === 0) return;
    this.committing = this.commitAll(batch, presence).finally(() => (this.committing = undefined));
    await this.committing;
  }

  private async commitAll(batch: Pending[], presence: PresenceUpdate[]): Promise<void> {
    if (batch.length > 0) await this.commit(batch);
    if (presence.length > 0) {
      try {
        await this.store.relaxedTransaction(async (tx) => {
          for (const update of presence) await update(tx);
        });
      } catch (err) {
        this.log.warn({ err: errorMessage(err), updates: presence.length }, 'presence updates dropped: store write failed');
      }
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    const byTarget = new Map<AckTarget, { seqs: number[]; refused: RefusedSeq[] }>();
    this.lastCommit = this.clock();
    let result: IngestResult;
    try {
      result = await this.store.ingest(batch.map((p) => p.item));
      this.metrics.outboxItems.inc({ outcome: 'new' }, result.fresh);
      if (batch.length > result.fresh) this.metrics.outboxItems.inc({ outcome: 'duplicate' }, batch.length - result.fresh);
    } catch (err) {
      this.log.error({ err: errorMessage(err), items: batch.length }, 'outbox commit failed; nothing acked');
      new Set(batch.map((p) => p.target)).forEach((t) => t.commitFailed(err));
      return;
    }
    const now = this.clock();
    batch.forEach((p, i) => {
      const acks = byTarget.get(p.target) ?? { seqs: [], refused: [] };
      acks.seqs.push(p.item.seq);
      const r = p.item.refusal;
      if (p.item.kind === 'usage-refused' && r !== undefined && result.refusedKept[i] === true) acks.refused.push(r.field === undefined ? { seq: p.item.seq, reason: r.reason } : { seq: p.item.seq, reason: r.reason, field: r.field.slice(0, 128) });
      byTarget.set(p.target, acks);
      this.metrics.ingestSeconds.observe((now - p.receivedAt) / 1000);
    });
    byTarget.forEach((acks, target) => target.ack(acks.seqs, acks.refused));
  }
}

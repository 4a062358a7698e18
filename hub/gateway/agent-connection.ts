/**
 * One agent's WebSocket on the hub: decodes every frame (never throws), checks that the frame speaks for
 * the authenticated node, routes outbox items to the ingest queue and telemetry to the store, and closes
 * the connection of a peer that keeps sending garbage.
 */
import type { WebSocket } from 'ws';
import type { FastifyBaseLogger } from 'fastify';
import { decodeFrame, encodeFrame, AGENT_TO_HUB, BadFrameCounter, type MessageByType, type HubToAgent, type ProtocolErrorBody } from '../../common/protocol/codec.js';
import type { HubStore } from '../store/hub-store.js';
import type { HubMetrics } from '../metrics.js';
import type { IngestQueue, AckTarget, RefusedSeq } from './ingest-queue.js';
import type { UsageGate } from '../usage/usage-gate.js';
import { errorMessage } from '../../common/errors.js';

/** Close codes the hub uses. */
export const CLOSE = { GOING_AWAY: 1001, POLICY: 1008, INTERNAL: 1011, REPLACED: 4000, REVOKED: 4001 } as const;

/** What a connection needs from the hub. */
export interface ConnectionDeps {
  store: HubStore;
  queue: IngestQueue;
  metrics: HubMetrics;
  log: FastifyBaseLogger;
  /** The usage admission gate; absent only in a hub without an infra repo (no placements to check against). */
  usage?: UsageGate;
  /** Answers volume-keys-request (hub/volumes); absent: every request is refused with why. */
  volumeKeys?: { answer(node: string, body: MessageByType['volume-keys-request']['body']): Promise<MessageByType['volume-keys']['body']> };
  /** Bad frames tolerated per window before disconnecting. */
  badFrameLimit?: number;
  badFrameWindowMs?: number;
}

/** The hub side of one agent connection. */
export class AgentConnection implements AckTarget {
  private readonly bad: BadFrameCounter;
  /** Refusals logged per minute: a node that sends only forged records cannot flood the log (the counter counts all). */
  private readonly refusalLog = new BadFrameCounter(20, 60_000);
  helloSeen = false;

  constructor(
    readonly node: string,
    private readonly ws: WebSocket,
    private readonly deps: ConnectionDeps,
  ) {
    this.bad = new BadFrameCounter(deps.badFrameLimit ?? 20, deps.badFrameWindowMs ?? 60_000);
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onFrame(data, isBinary));
  }

  /** Sends one message to the agent (dropped if the socket is no longer open). */
  send<T extends HubToAgent>(type: T, body: MessageByType[T]['body']): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(encodeFrame(type, body));
    this.deps.metrics.messagesOut.inc({ type });
  }

  /**
   * Acks seqs committed by the ingest queue. Refused ones are acked like the rest, then named with their
   * reason in a second ack: an agent older than `refused` rejects only that frame, and still drains.
   */
  ack(seqs: number[], refused: RefusedSeq[] = []): void {
    this.send('ack', { seqs });
    if (refused.length > 0) this.send('ack', { seqs: refused.map((r) => r.seq), refused });
  }

  /** The commit failed: close so the agent reconnects and resends what is unacked. */
  commitFailed(): void {
    this.send('error', { code: 'STORE', message: 'the hub could not commit; reconnect and resend' });
    this.ws.close(CLOSE.INTERNAL, 'store unavailable');
  }

  /** Closes the socket with a code and reason. */
  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  private refuse(error: ProtocolErrorBody): void {
    const { metrics, log } = this.deps;
    metrics.protocolErrors.inc({ code: error.code });
    log.warn({ node: this.node, code: error.code, refType: error.refType, field: error.field }, `refused frame: ${error.message}`);
    this.send('error', error);
    if (this.bad.record()) {
      log.warn({ node: this.node }, 'disconnecting agent: too many invalid frames');
      this.ws.close(CLOSE.POLICY, 'too many invalid frames');
    }
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    try {
      if (isBinary) {
        this.deps.metrics.messagesIn.inc({ type: 'invalid' });
        this.refuse({ code: 'PROTOCOL_FRAME', message: 'binary frames are not part of the protocol: send json text' });
        return;
      }
      const d = decodeFrame(data, AGENT_TO_HUB);
      if (!d.ok) {
        this.deps.metrics.messagesIn.inc({ type: 'invalid' });
        this.refuse(d.error);
        return;
      }
      const msg = d.msg;
      this.deps.metrics.messagesIn.inc({ type: msg.type });
      const recordNode = msg.type === 'usage' ? msg.body.record.node : undefined;
      if (recordNode !== undefined && recordNode !== this.node) {
        this.refuse({ code: 'AUTH_FORBIDDEN', message: `usage record is for node ${String(recordNode)}, but the credential belongs to ${this.node}`, refType: msg.type, refId: msg.id, field: '/body/record/node' });
        return;
      }
      if (msg.body.node !== this.node) {
        this.refuse({ code: 'AUTH_FORBIDDEN', message: `${msg.type} message speaks for node ${msg.body.node}, but the credential belongs to ${this.node}`, refType: msg.type, refId: msg.id, field: '/body/node' });
        return;
      }
      this.dispatch(msg);
    } catch (err) {
      // Never let one frame take the hub down.
      this.deps.log.error({ node: this.node, err: errorMessage(err) }, 'internal error handling a frame');
      this.send('error', { code: 'INTERNAL', message: 'the hub failed to handle this frame' });
    }
  }

  /** Runs the admission gate, then queues the record as usage or as refused; a gate failure acks nothing. */
  private async admit(gate: UsageGate, seq: number, record: Record<string, unknown>): Promise<void> {
    const { queue, metrics, log } = this.deps;
    try {
      const a = await gate.admit(this.node, record);
      if (a.ok) {
        queue.add(this, { node: this.node, seq, kind: 'usage', payload: record });
        return;
      }
      metrics.usageRefused.inc({ reason: a.reason });
      if (!this.refusalLog.record()) log.warn({ node: this.node, seq, reason: a.reason, field: a.field }, `usage refused: ${a.message}`);
      queue.add(this, { node: this.node, seq, kind: 'usage-refused', payload: record, refusal: a.field === undefined ? { reason: a.reason, message: a.message } : { reason: a.reason, message: a.message, field: a.field } });
    } catch (err) {
      // the placement history could not be read: nothing is decided; the agent resends after reconnecting
      log.error({ node: this.node, seq, err: errorMessage(err) }, 'usage admission failed; nothing acked');
      this.commitFailed();
    }
  }

  /** Answers a key request; a failure refuses every key with a reason (never the key, never a stack). */
  private async answerVolumeKeys(body: MessageByType['volume-keys-request']['body']): Promise<void> {
    const svc = this.deps.volumeKeys;
    const refuseAll = (reason: string): MessageByType['volume-keys']['body'] => ({ node: this.node, keys: [], refused: body.keys.map((k) => ({ ...k, reason })) });
    try {
      this.send('volume-keys', svc === undefined ? refuseAll('this hub keeps no volume keys (it runs without an infra repo or an age identity)') : await svc.answer(this.node, body));
    } catch (err) {
      this.deps.log.error({ node: this.node, err: errorMessage(err) }, 'volume key request failed');
      this.send('volume-keys', refuseAll('the hub failed to answer; the agent asks again'));
    }
  }

  private dispatch(msg: MessageByType['hello' | 'status' | 'telemetry' | 'usage' | 'volume-keys-request']): void {
    const { store, queue, metrics } = this.deps;
    switch (msg.type) {
      case 'volume-keys-request':
        void this.answerVolumeKeys(msg.body);
        return;
      case 'hello':
        this.helloSeen = true;
        metrics.gpus.declare(this.node, msg.body.inventory.gpus.map((g) => g.uuid));
        queue.defer((tx) => store.recordHello(this.node, msg.body, tx));
        return;
      case 'telemetry':
        metrics.gpus.observe(msg.body);
        queue.addTelemetry(msg.body);
        return;
      case 'usage':
        if (this.deps.usage === undefined) queue.add(this, { node: this.node, seq: msg.seq, kind: 'usage', payload: msg.body.record });
        else void this.admit(this.deps.usage, msg.seq, msg.body.record);
        return;
      case 'status':
        if (msg.body.reconcile !== undefined) metrics.reconcileResults.inc({ result: msg.body.reconcile.result });
        queue.add(this, { node: this.node, seq: msg.seq, kind: 'status', payload: msg.body });
        return;
    }
  }
}

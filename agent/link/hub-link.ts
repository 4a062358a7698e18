/**
 * The agent's side of the hub connection: one outbound WebSocket, hello on connect, the durable outbox
 * drained in seq order and resent after every reconnect until acked, best-effort telemetry, and hub
 * commands handed to injected handlers. Reconnects with jittered exponential backoff.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { AGENT_WS_PATH, decodeFrame, encodeFrame, HUB_TO_AGENT, BadFrameCounter, MAX_WS_PAYLOAD_BYTES, type MessageByType, type AgentToHub, type CommandMessage, type ConsoleOpenMessage, type HelloMessage, type SecretsMessage, type StatusMessage, type TelemetryMessage, type VolumeKeysMessage, type VolumeKeysRequestMessage } from '../../common/protocol/codec.js';
import { FoundryError, errorMessage } from '../../common/errors.js';
import { VERSION } from '../../common/version.js';
import { Backoff } from './backoff.js';
import { Outbox, type OutboxKind } from './outbox.js';

/** A hub command as handlers receive it. */
export type HubCommand = CommandMessage['body'];
/** Handles a hub command (errors are logged, never thrown back). */
export type CommandHandler = (cmd: HubCommand) => unknown;
/** A console-open request as its handler receives it. */
export type ConsoleOpen = ConsoleOpenMessage['body'];
/** Volume keys from the hub (age-encrypted to this node), as the handler receives them. */
export type HubVolumeKeys = VolumeKeysMessage['body'];
/** Workspace secrets from the hub (age-encrypted to this node), as the handler receives them. */
export type HubSecrets = SecretsMessage['body'];

/** The logger the link writes to (pino-compatible). */
export interface LinkLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const silent: LinkLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Options of HubLink. */
export interface HubLinkOptions {
  /** http(s):// or ws(s):// base URL of the hub. */
  hubUrl: string;
  node: string;
  credential: string;
  /** Agent state dir; the outbox lives in it. */
  stateDir: string;
  agentVersion?: string;
  /** What goes into hello on each connect. */
  hello?: () => Omit<HelloMessage['body'], 'node' | 'agentVersion'>;
  /** Handlers of hub commands. */
  handlers?: { syncNow?: CommandHandler; drain?: CommandHandler; consoleOpen?: (req: ConsoleOpen) => unknown; secrets?: (body: HubSecrets) => unknown; volumeKeys?: (body: HubVolumeKeys) => unknown };
  /** PEM CA certificate to verify a hub with a private CA. */
  ca?: string | Buffer;
  /** Outbox entries sent but not yet acked, at most. */
  maxInFlight?: number;
  random?: () => number;
  timers?: { setTimeout: (fn: () => void, ms: number) => unknown; clearTimeout: (handle: unknown) => void };
  log?: LinkLogger;
}

/** Events: 'connected', 'disconnected' (code, reason), 'acked' (seqs), 'hub-error' (error body), 'refused' (HTTP status). */
export class HubLink extends EventEmitter {
  private readonly outbox: Outbox;
  private readonly backoff: Backoff;
  private readonly log: LinkLogger;
  private readonly timers: NonNullable<HubLinkOptions['timers']>;
  private readonly commandHandlers: CommandHandler[] = [];
  private ws: WebSocket | undefined;
  private retry: unknown;
  private stopped = true;
  private inFlight = new Set<number>();
  private sentUpTo = 0;
  private bad = new BadFrameCounter();

  constructor(private readonly opts: HubLinkOptions) {
    super();
    this.outbox = new Outbox(opts.stateDir);
    this.backoff = new Backoff(opts.random ?? Math.random);
    this.log = opts.log ?? silent;
    this.timers = opts.timers ?? { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
  }

  /** Starts connecting (and reconnecting until close()). */
  start(): this {
    if (!this.stopped) return this;
    this.stopped = false;
    this.connect();
    return this;
  }

  /** True while the WebSocket is open. */
  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Entries waiting for an ack. */
  pending(): number {
    return this.outbox.size();
  }

  /** Epoch ms the oldest entry waiting for an ack was stored at; undefined when none waits. */
  oldestPendingAt(): number | undefined {
    return this.outbox.oldestCreatedAt();
  }

  /** Highest seq ever assigned. */
  lastSeq(): number {
    return this.outbox.lastSeq();
  }

  /** The first seq of this outbox file (the rest follow one by one up to lastSeq()). */
  firstSeq(): number {
    return this.outbox.firstSeq();
  }

  /** Stores a usage record (e.g. agent/usage's UsageRecord) durably, validated first, and sends it when connected; returns its seq. */
  enqueueUsage(record: object): number {
    return this.enqueue('usage', { node: this.opts.node, record: record as Record<string, unknown> });
  }

  /** Stores a status transition durably and sends it when connected; returns its seq. */
  sendStatus(status: Omit<StatusMessage['body'], 'node'>): number {
    return this.enqueue('status', { ...status, node: this.opts.node });
  }

  /** Sends a telemetry sample now if connected (best-effort: dropped otherwise); true when sent. */
  sendTelemetry(sample: Omit<TelemetryMessage['body'], 'node'>): boolean {
    const frame = this.check('telemetry', { ...sample, node: this.opts.node });
    if (!this.connected) return false;
    this.ws!.send(frame);
    return true;
  }

  /** Asks the hub for volume keys now if connected (best-effort: the asker asks again on 'connected'); true when sent. */
  requestVolumeKeys(body: Omit<VolumeKeysRequestMessage['body'], 'node'>): boolean {
    const frame = this.check('volume-keys-request', { ...body, node: this.opts.node });
    if (!this.connected) return false;
    this.ws!.send(frame);
    return true;
  }

  /** Adds a handler for every hub command (besides the syncNow/drain handlers of the options). */
  onCommand(handler: CommandHandler): void {
    this.commandHandlers.push(handler);
  }

  /** Stops reconnecting, closes the socket and the outbox (unacked entries stay on disk). */
  async close(): Promise<void> {
    this.stopped = true;
    if (this.retry !== undefined) this.timers.clearTimeout(this.retry);
    const ws = this.ws;
    if (ws !== undefined && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close(1000, 'agent stopping');
        setTimeout(() => { ws.terminate(); resolve(); }, 1000).unref();
      });
    }
    this.outbox.close();
  }

  /** Validates the frame this body makes (outbox kinds with a placeholder seq), so nothing invalid is sent or stored. */
  private check<T extends AgentToHub>(type: T, body: MessageByType[T]['body']): string {
    const frame = encodeFrame(type, body, { seq: type === 'usage' || type === 'status' ? 1 : undefined });
    const d = decodeFrame(frame, [type]);
    if (!d.ok) throw new FoundryError('PROTOCOL_FRAME', d.error.message, { resource: this.opts.node, details: { field: d.error.field } });
    return frame;
  }

  private enqueue(kind: OutboxKind, body: MessageByType[OutboxKind]['body']): number {
    this.check(kind, body);
    const seq = this.outbox.enqueue(kind, body);
    this.pump();
    return seq;
  }

  private url(): string {
    const base = this.opts.hubUrl.replace(/\/+$/, '').replace(/^http/, 'ws');
    return `${base}${AGENT_WS_PATH}`;
  }

  private connect(): void {
    if (this.stopped) return;
    const ws = new WebSocket(this.url(), {
      headers: { authorization: `Bearer ${this.opts.credential}` },
      maxPayload: MAX_WS_PAYLOAD_BYTES,
      perMessageDeflate: false,
      handshakeTimeout: 10_000,
      ca: this.opts.ca,
    });
    this.ws = ws;
    ws.on('open', () => this.onOpen(ws));
    ws.on('message', (data: Buffer) => this.onFrame(data));
    ws.on('unexpected-response', (_req, res) => {
      this.log.error({ status: res.statusCode }, `hub refused the connection (http ${res.statusCode})`);
      this.emit('refused', res.statusCode);
      ws.terminate();
    });
    ws.on('error', (err) => this.log.debug({ err: errorMessage(err) }, 'hub connection error'));
    ws.on('close', (code: number, reason: Buffer) => this.onClose(ws, code, reason.toString()));
  }

  private onOpen(ws: WebSocket): void {
    if (this.ws !== ws) return;
    this.backoff.reset();
    this.inFlight = new Set();
    this.sentUpTo = 0;
    this.bad = new BadFrameCounter();
    const extra = this.opts.hello?.() ?? { appliedRevision: null, inventory: { gpus: [], resources: [] } };
    ws.send(encodeFrame('hello', { node: this.opts.node, agentVersion: this.opts.agentVersion ?? VERSION, ...extra }));
    this.log.info({ hub: this.opts.hubUrl, pending: this.outbox.size() }, 'connected to hub');
    this.emit('connected');
    this.pump();
  }

  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (this.ws !== ws) return;
    this.ws = undefined;
    this.inFlight.clear();
    this.emit('disconnected', code, reason);
    if (this.stopped) return;
    const delay = this.backoff.next();
    this.log.warn({ code, reason, retryInMs: delay }, 'hub connection closed; reconnecting');
    this.retry = this.timers.setTimeout(() => {
      this.retry = undefined;
      this.connect();
    }, delay);
  }

  /** Sends outbox entries in seq order while the in-flight window has room. */
  private pump(): void {
    if (!this.connected) return;
    const max = this.opts.maxInFlight ?? 1000;
    while (this.inFlight.size < max) {
      const batch = this.outbox.pendingAfter(this.sentUpTo, max - this.inFlight.size);
      if (batch.length === 0) return;
      for (const e of batch) {
        this.ws!.send(encodeFrame(e.kind, e.body as never, { seq: e.seq }));
        this.inFlight.add(e.seq);
        this.sentUpTo = e.seq;
      }
    }
  }

  private onFrame(data: Buffer): void {
    const d = decodeFrame(data, HUB_TO_AGENT);
    if (!d.ok) {
      // The agent does not answer with error frames (no error ping-pong); it logs and, past a limit, reconnects.
      this.log.warn({ field: d.error.field }, `invalid frame from hub: ${d.error.message}`);
      if (this.bad.record()) this.ws?.close(1008, 'too many invalid frames');
      return;
    }
    const msg = d.msg;
    if (msg.type === 'ack') {
      // refused seqs are in seqs too: the hub will never bill them, so they leave the outbox like the rest
      for (const r of msg.body.refused ?? []) this.log.warn({ seq: r.seq, reason: r.reason, field: r.field }, 'hub refused a usage record; it will not be billed');
      if (msg.body.refused !== undefined && msg.body.refused.length > 0) this.emit('refused', msg.body.refused);
      this.outbox.ack(msg.body.seqs);
      msg.body.seqs.forEach((s) => this.inFlight.delete(s));
      this.emit('acked', msg.body.seqs);
      this.pump();
    } else if (msg.type === 'error') {
      this.log.warn({ code: msg.body.code, refType: msg.body.refType, field: msg.body.field }, `hub refused a frame: ${msg.body.message}`);
      this.emit('hub-error', msg.body);
    } else if (msg.type === 'console-open') {
      this.openConsole(msg.body);
    } else if (msg.type === 'volume-keys') {
      this.onVolumeKeys(msg.body);
    } else if (msg.type === 'secrets') {
      this.onSecrets(msg.body);
    } else {
      this.runCommand(msg.body);
    }
  }

  /** Hands a console-open request to its handler (agent/console); an agent without one logs and ignores it. */
  private openConsole(req: ConsoleOpen): void {
    const handler = this.opts.handlers?.consoleOpen;
    if (handler === undefined) {
      this.log.warn({ workspace: req.workspace }, 'console requested, but this agent has no console handler');
      return;
    }
    try {
      Promise.resolve(handler(req)).catch((err: unknown) => this.log.error({ workspace: req.workspace, err: errorMessage(err) }, 'console handler failed'));
    } catch (err) {
      this.log.error({ workspace: req.workspace, err: errorMessage(err) }, 'console handler failed');
    }
    this.emit('console-open', req);
  }

  /** Keys meant for another node are a hub bug: dropped, never handed on. */
  private onVolumeKeys(body: HubVolumeKeys): void {
    const handler = this.opts.handlers?.volumeKeys;
    if (body.node !== this.opts.node) {
      this.log.warn({ node: body.node }, `hub sent volume keys for node ${body.node} to ${this.opts.node}: ignored`);
      return;
    }
    if (handler === undefined) return;
    try {
      Promise.resolve(handler(body)).catch((err: unknown) => this.log.error({ err: errorMessage(err) }, 'volume keys handler failed'));
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'volume keys handler failed');
    }
  }

  /** Secrets for another node are a hub bug: refused, never handed on. */
  private onSecrets(body: HubSecrets): void {
    if (body.node !== this.opts.node) {
      this.log.warn({ node: body.node }, `hub sent secrets for node ${body.node} to ${this.opts.node}: ignored`);
      return;
    }
    const handler = this.opts.handlers?.secrets;
    if (handler === undefined) return;
    try {
      Promise.resolve(handler(body)).catch((err: unknown) => this.log.error({ err: errorMessage(err) }, 'secrets handler failed'));
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'secrets handler failed');
    }
  }

  private runCommand(cmd: HubCommand): void {
    const named = cmd.name === 'sync-now' ? this.opts.handlers?.syncNow : cmd.name === 'drain' ? this.opts.handlers?.drain : undefined;
    for (const h of [...(named === undefined ? [] : [named]), ...this.commandHandlers]) {
      try {
        Promise.resolve(h(cmd)).catch((err: unknown) => this.log.error({ command: cmd.name, err: errorMessage(err) }, 'command handler failed'));
      } catch (err) {
        this.log.error({ command: cmd.name, err: errorMessage(err) }, 'command handler failed');
      }
    }
    this.emit('command', cmd);
  }
}

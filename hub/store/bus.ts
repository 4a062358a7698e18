/**
 * The bus between hub replicas: small JSON messages on named topics, delivered to every replica's
 * subscribers (the publisher's own included, flagged `fromSelf`, so it can skip what it already did).
 *
 * - SQLite (one hub process): an in-process EventEmitter.
 * - PostgreSQL: LISTEN/NOTIFY. Publishing is `pg_notify` through the pool; listening holds one dedicated
 *   client, opened from the pool's URL on the first subscribe and reopened (1 s, doubling to 10 s) after
 *   the server restarts or the connection drops. Delivery is at most once: a message published while a
 *   replica's listener is down is lost for that replica, so every use must have a level-triggered fallback
 *   (agents also sync on their own timer). Payloads go to the database server and into its logs on error:
 *   never put a secret in one; they are limited to 7,000 bytes of JSON (NOTIFY's limit is 8,000).
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import type { Sql } from './sql/sql.js';

/** What a subscriber learns besides the payload. */
export interface BusMeta {
  /** True when this replica (this bus) published it. */
  fromSelf: boolean;
}

/** A subscriber: called once per message; a throw is reported to the bus's onError, never to the publisher. */
export type BusHandler = (payload: unknown, meta: BusMeta) => void;

/** Messages between hub replicas. */
export interface HubBus {
  /** This replica's random id (in every message it publishes). */
  readonly replicaId: string;
  /** Sends `payload` (small JSON, no secrets) to every subscriber of `topic` on every replica. */
  publish(topic: string, payload: unknown): Promise<void>;
  /** Calls `fn` for every message on `topic`; returns the function that unsubscribes. */
  subscribe(topic: string, fn: BusHandler): Promise<() => Promise<void>>;
  /** Stops listening (the PostgreSQL client is closed). */
  close(): Promise<void>;
}

/** The largest payload, as JSON bytes. */
export const MAX_BUS_PAYLOAD = 7000;

interface Envelope {
  from: string;
  payload: unknown;
}

/** The PostgreSQL channel of a topic: lowercase letters, digits and `_` only, prefixed. */
export function channelOf(topic: string): string {
  if (!/^[a-z][a-z0-9_]{0,40}$/.test(topic)) throw new Error(`bus: not a topic name: ${topic}`);
  return `foundry_${topic}`;
}

function encode(replicaId: string, payload: unknown): string {
  const text = JSON.stringify({ from: replicaId, payload } satisfies Envelope);
  if (Buffer.byteLength(text) > MAX_BUS_PAYLOAD) throw new Error(`bus: payload over ${MAX_BUS_PAYLOAD} bytes`);
  return text;
}

/** The bus of a single hub process (SQLite). */
export class LocalBus implements HubBus {
  readonly replicaId = randomBytes(6).toString('hex');
  private readonly emitter = new EventEmitter();

  constructor(private readonly onError: (err: unknown) => void = () => undefined) {
    this.emitter.setMaxListeners(0);
  }

  async publish(topic: string, payload: unknown): Promise<void> {
    const envelope = JSON.parse(encode(this.replicaId, payload)) as Envelope;
    this.emitter.emit(channelOf(topic), envelope);
  }

  async subscribe(topic: string, fn: BusHandler): Promise<() => Promise<void>> {
    const listener = (e: Envelope): void => {
      try {
        fn(e.payload, { fromSelf: e.from === this.replicaId });
      } catch (err) {
        this.onError(err);
      }
    };
    const channel = channelOf(topic);
    this.emitter.on(channel, listener);
    return async () => void this.emitter.off(channel, listener);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

/** How a PostgreSQL bus reaches its server. */
export interface PgBusOptions {
  /** The database URL (the pool's): the listening client is opened from it. */
  url: string;
  /** The store's Sql: publishing is one `SELECT pg_notify` through it. */
  sql: Sql;
  /** Reports a listener that lost its connection or a subscriber that threw (never with the URL). */
  onError?: (err: unknown) => void;
  /** First reconnect delay in ms (default 1000, doubling to 10 s). */
  retryMs?: number;
}

/** The bus over PostgreSQL LISTEN/NOTIFY. */
export class PgBus implements HubBus {
  readonly replicaId = randomBytes(6).toString('hex');
  private readonly handlers = new Map<string, Set<BusHandler>>();
  private client: Client | undefined;
  private connecting: Promise<Client | undefined> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private delay: number;
  private closed = false;

  constructor(private readonly opts: PgBusOptions) {
    this.delay = opts.retryMs ?? 1000;
  }

  async publish(topic: string, payload: unknown): Promise<void> {
    await this.opts.sql.get('SELECT pg_notify(?, ?) AS sent', [channelOf(topic), encode(this.replicaId, payload)]);
  }

  async subscribe(topic: string, fn: BusHandler): Promise<() => Promise<void>> {
    const channel = channelOf(topic);
    let set = this.handlers.get(channel);
    if (set === undefined) {
      set = new Set();
      this.handlers.set(channel, set);
      const client = await this.listener();
      // a client being (re)connected LISTENs to every channel in the map once it is up
      if (client !== undefined) await client.query(`LISTEN ${channel}`);
    }
    set.add(fn);
    return async () => {
      set.delete(fn);
      if (set.size > 0 || this.handlers.get(channel) !== set) return;
      this.handlers.delete(channel);
      await this.client?.query(`UNLISTEN ${channel}`).catch(() => undefined);
    };
  }

  /** True while the listening client is connected (tests, health). */
  get listening(): boolean {
    return this.client !== undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.handlers.clear();
    await this.connecting;
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }

  /** The listening client, connecting it when there is none; undefined while the server is unreachable. */
  private listener(): Promise<Client | undefined> {
    if (this.client !== undefined) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<Client | undefined> {
    if (this.closed) return undefined;
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: this.opts.url, application_name: 'foundry-hub-bus' });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('bus connection ended')));
    client.on('notification', (n) => this.deliver(n.channel, n.payload));
    try {
      await client.connect();
      for (const channel of this.handlers.keys()) await client.query(`LISTEN ${channel}`);
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      this.lost(undefined, err);
      return undefined;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return undefined;
    }
    this.client = client;
    this.delay = this.opts.retryMs ?? 1000;
    return client;
  }

  /** The listener is gone (or never came): report it and try again later. */
  private lost(client: Client | undefined, err: unknown): void {
    if (client !== undefined && client !== this.client) return;
    this.client = undefined;
    if (this.closed) return;
    this.opts.onError?.(err);
    if (this.retry !== undefined) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.listener();
    }, this.delay);
    this.retry.unref();
    this.delay = Math.min(this.delay * 2, 10_000);
  }

  private deliver(channel: string, text: string | undefined): void {
    let e: Envelope;
    try {
      e = JSON.parse(text ?? '') as Envelope;
    } catch (err) {
      this.opts.onError?.(err);
      return;
    }
    for (const fn of this.handlers.get(channel) ?? []) {
      try {
        fn(e.payload, { fromSelf: e.from === this.replicaId });
      } catch (err) {
        this.opts.onError?.(err);
      }
    }
  }
}

/**
 * Live updates for the dashboard: a watcher polls cheap signatures of the store (one query for every
 * topic, once a second) and tells every Server-Sent Events client which topics changed; pages then
 * refetch what they show. Events carry topic names only, never data, so they leak nothing across tenants.
 * The watcher also feeds the GPU sparkline history from the latest telemetry.
 */
import type { ServerResponse } from 'node:http';
import type { GpuHistory, TelemetrySample } from './gpu-history.js';
import { TOPICS, type FleetRepo, type Topic } from '../store/fleet-repo.js';

export type { Topic } from '../store/fleet-repo.js';

/** Watches the store and fans changes out to SSE clients. */
export class LiveEvents {
  private readonly clients = new Set<ServerResponse>();
  private readonly sigs = new Map<Topic, string>();
  private connectedSig = '';
  private timer: NodeJS.Timeout | undefined;
  private beat: NodeJS.Timeout | undefined;
  /** The poll running now: a slow store makes the next tick wait for it instead of piling up. */
  private polling: Promise<Topic[]> | undefined;

  constructor(
    private readonly fleet: FleetRepo,
    private readonly history: GpuHistory,
    private readonly connected: () => string[],
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** Starts polling every `ms`; heartbeats keep idle proxies from closing streams. */
  start(ms = 1000): void {
    const tick = (): void => void this.poll().catch(this.onError);
    tick();
    this.timer = setInterval(tick, ms);
    this.beat = setInterval(() => this.send(': keepalive\n\n'), 15_000);
    this.timer.unref();
    this.beat.unref();
  }

  /** Stops polling and ends every stream. */
  stop(): void {
    clearInterval(this.timer);
    clearInterval(this.beat);
    for (const c of this.clients) c.end();
    this.clients.clear();
  }

  /** Adds an SSE client (the response is already hijacked from Fastify). */
  attach(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 3000\n\n');
    res.write(`event: hello\ndata: ${JSON.stringify({ topics: TOPICS })}\n\n`);
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
  }

  /** Number of open streams. */
  size(): number {
    return this.clients.size;
  }

  /** One poll: compares signatures and announces changed topics (a poll already running is shared). */
  poll(): Promise<Topic[]> {
    this.polling ??= this.pollOnce().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async pollOnce(): Promise<Topic[]> {
    const changed: Topic[] = [];
    const sigs = await this.fleet.signatures();
    for (const topic of TOPICS) {
      const sig = sigs[topic];
      if (this.sigs.has(topic) && this.sigs.get(topic) !== sig) changed.push(topic);
      this.sigs.set(topic, sig);
    }
    const conn = this.connected().sort().join(',');
    if (conn !== this.connectedSig && !changed.includes('nodes')) changed.push('nodes');
    this.connectedSig = conn;
    if (changed.includes('telemetry') || this.sigs.size === changed.length) await this.feedHistory();
    if (changed.length > 0) this.send(`event: change\ndata: ${JSON.stringify({ topics: changed })}\n\n`);
    return changed;
  }

  /** Copies the latest telemetry of every node into the sparkline history. */
  async feedHistory(): Promise<void> {
    for (const r of await this.fleet.latestTelemetry()) this.history.add(r.payload as TelemetrySample);
  }

  private send(text: string): void {
    for (const c of this.clients) c.write(text);
  }
}

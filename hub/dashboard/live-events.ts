/**
 * Live updates for the dashboard: a watcher polls cheap signatures of the store (one indexed query per
 * topic, once a second) and tells every Server-Sent Events client which topics changed; pages then
 * refetch what they show. Events carry topic names only, never data, so they leak nothing across tenants.
 * The watcher also feeds the GPU sparkline history from the latest telemetry.
 */
import type Database from 'better-sqlite3';
import type { ServerResponse } from 'node:http';
import type { GpuHistory, TelemetrySample } from './gpu-history.js';

/** Topics a page can listen to. */
export type Topic = 'nodes' | 'telemetry' | 'audit' | 'workspaces' | 'billing' | 'refused' | 'enrollment';

const QUERIES: Record<Topic, string> = {
  nodes: "SELECT (SELECT group_concat(name || ':' || status || ':' || revoked, ',') FROM nodes) || '|' || (SELECT coalesce(sum(seq), 0) FROM node_status) AS sig",
  telemetry: 'SELECT coalesce(max(at), 0) || \':\' || count(*) AS sig FROM telemetry_latest',
  audit: 'SELECT coalesce(max(id), 0) AS sig FROM audit_log',
  workspaces: "SELECT coalesce(max(updated_at), '') || ':' || count(*) AS sig FROM workspace_lifecycle",
  billing: 'SELECT coalesce(max(id), 0) AS sig FROM usage_records',
  // refused usage (admins' Billing page and overview alerts); the name alone tells a tenant nothing it may not know
  refused: "SELECT count(*) || ':' || coalesce(max(received_at), '') AS sig FROM usage_refusals",
  enrollment: "SELECT count(*) || ':' || coalesce(sum(uses), 0) || ':' || coalesce(sum(revoked), 0) AS sig FROM join_tokens",
};

/** Watches the store and fans changes out to SSE clients. */
export class LiveEvents {
  private readonly clients = new Set<ServerResponse>();
  private readonly sigs = new Map<Topic, string>();
  private readonly stmts = new Map<Topic, Database.Statement>();
  private readonly telemetryRows: Database.Statement;
  private connectedSig = '';
  private timer: NodeJS.Timeout | undefined;
  private beat: NodeJS.Timeout | undefined;

  constructor(
    db: Database.Database,
    private readonly history: GpuHistory,
    private readonly connected: () => string[],
  ) {
    for (const [topic, sql] of Object.entries(QUERIES) as Array<[Topic, string]>) {
      try {
        this.stmts.set(topic, db.prepare(sql));
      } catch {
        // A table of an area not installed (no workspaces without a hosted repo): no such topic.
      }
    }
    this.telemetryRows = db.prepare('SELECT payload FROM telemetry_latest');
  }

  /** Starts polling every `ms`; heartbeats keep idle proxies from closing streams. */
  start(ms = 1000): void {
    this.poll();
    this.timer = setInterval(() => this.poll(), ms);
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
    res.write(`event: hello\ndata: ${JSON.stringify({ topics: [...this.stmts.keys()] })}\n\n`);
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
  }

  /** Number of open streams. */
  size(): number {
    return this.clients.size;
  }

  /** One poll: compares signatures and announces changed topics. */
  poll(): Topic[] {
    const changed: Topic[] = [];
    for (const [topic, stmt] of this.stmts) {
      const sig = String((stmt.get() as { sig: unknown } | undefined)?.sig ?? '');
      if (this.sigs.has(topic) && this.sigs.get(topic) !== sig) changed.push(topic);
      this.sigs.set(topic, sig);
    }
    const conn = this.connected().sort().join(',');
    if (conn !== this.connectedSig && !changed.includes('nodes')) changed.push('nodes');
    this.connectedSig = conn;
    if (changed.includes('telemetry') || this.sigs.size === changed.length) this.feedHistory();
    if (changed.length > 0) this.send(`event: change\ndata: ${JSON.stringify({ topics: changed })}\n\n`);
    return changed;
  }

  /** Copies the latest telemetry of every node into the sparkline history. */
  feedHistory(): void {
    for (const r of this.telemetryRows.all() as Array<{ payload: string }>) this.history.add(JSON.parse(r.payload) as TelemetrySample);
  }

  private send(text: string): void {
    for (const c of this.clients) c.write(text);
  }
}

/**
 * Keeps every ingress node's nginx fed: a few times a second it compares the route table (Git plus the
 * agents' last reported status) with what each ingress node was last sent, and sends `ingress-routes`
 * to the node's agent when it changed or the agent has (re)connected. The poll reads only
 * (node, seq) pairs and parses a status again only when its seq moved, so an idle hub does little.
 */
import type { FastifyBaseLogger } from 'fastify';
import { canonicalJson } from '../../common/hash.js';
import { errorMessage } from '../../common/errors.js';
import type { InfraRepo } from '../../common/infra/model.js';
import type { CommandMessage, StatusMessage } from '../../common/protocol/codec.js';
import { ingressBodies, type IngressBody, type IngressSettings } from './route-table.js';
import type { AppSessionsRepo } from '../store/app-sessions-repo.js';

/** What the sync needs from the hub. */
export interface IngressSyncDeps {
  /** The agents' last statuses (HubStore.appSessions). */
  statuses: Pick<AppSessionsRepo, 'statusSeqs' | 'status'>;
  /** The infra repo at the branch tip; `fresh` asks Git for the tip, otherwise the last load may be returned. */
  repo(fresh: boolean): Promise<InfraRepo>;
  connectedNodes(): string[];
  command(node: string, body: CommandMessage['body']): boolean;
  settings: IngressSettings;
  log: FastifyBaseLogger;
  /** Poll period (default 250 ms: a reported app is routable well within 2 s). */
  intervalMs?: number;
}

/** The hub side of the ingress: route table → ingress nodes. */
export class IngressSync {
  private readonly statuses = new Map<string, { seq: number; body: StatusMessage['body'] }>();
  private readonly sent = new Map<string, string>();
  private connected = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastFresh = 0;

  constructor(private readonly deps: IngressSyncDeps) {}

  /** Starts polling. */
  start(): void {
    this.timer = setInterval(() => void this.tick(), this.deps.intervalMs ?? 250);
    this.timer.unref();
  }

  /** Stops polling and waits for a tick in progress. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.running;
  }

  /** One comparison (single-flight); exposed for tests. */
  tick(): Promise<void> {
    this.running ??= this.run()
      .catch((err: unknown) => this.deps.log.warn({ event: 'ingress-sync-failed', err: errorMessage(err) }, 'ingress routes not computed this time'))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /** The bodies as they would be sent now (for the API and tests). */
  async bodies(): Promise<Map<string, IngressBody[]>> {
    const repo = await this.repo();
    return ingressBodies(repo, (n) => this.statuses.get(n)?.body, this.deps.settings);
  }

  private async run(): Promise<void> {
    await this.readStatuses();
    const connected = new Set(this.deps.connectedNodes());
    for (const node of this.sent.keys()) if (!connected.has(node) || !this.connected.has(node)) this.sent.delete(node);
    this.connected = connected;
    const bodies = await this.bodies();
    for (const [node, list] of bodies) {
      if (!connected.has(node)) continue;
      const key = canonicalJson(list);
      if (this.sent.get(node) === key) continue;
      for (const ingress of list) this.deps.command(node, { name: 'ingress-routes', reason: `${ingress.routes.length} routes`, ingress });
      this.sent.set(node, key);
      this.deps.log.info({ event: 'ingress-routes-sent', node, services: list.map((b) => b.service), routes: list[0]?.routes.length ?? 0 }, 'sent ingress routes');
    }
  }

  /** Re-reads the statuses whose seq moved. */
  private async readStatuses(): Promise<void> {
    for (const { node, seq } of await this.deps.statuses.statusSeqs()) {
      if (this.statuses.get(node)?.seq === seq) continue;
      const row = await this.deps.statuses.status(node);
      if (row !== undefined) this.statuses.set(node, { seq: row.seq, body: JSON.parse(row.payload) as StatusMessage['body'] });
    }
  }

  /** The cached repo, re-read from Git when an agent reports a revision the cache does not have yet (at most once a second). */
  private async repo(): Promise<InfraRepo> {
    const cached = await this.deps.repo(false);
    const newer = [...this.statuses.values()].some((s) => typeof s.body.observedRevision === 'string' && s.body.observedRevision !== cached.revision);
    if (!newer || Date.now() - this.lastFresh < 1000) return cached;
    this.lastFresh = Date.now();
    return this.deps.repo(true);
  }
}

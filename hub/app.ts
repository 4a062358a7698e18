/**
 * The hub's HTTP application: API, agents' WebSocket, hosted Git repo, health and metrics on one port.
 * `buildApp(deps)` only wires; `listen()` lives in server.ts, so tests can use the app in-process.
 */
import { dirname, join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { createMetrics, type HubMetrics } from './metrics.js';
import type { HubStore } from './store/hub-store.js';
import { IngestQueue } from './gateway/ingest-queue.js';
import { AgentGateway } from './gateway/agent-gateway.js';
import { gitBackendPlugin, type PushedRef } from './git/http-backend.js';
import { healthRoutes } from './routes/health.js';
import { webhookRoutes } from './routes/webhooks.js';
import { nodeRoutes } from './routes/nodes.js';
import { installAuth, requirePrincipal } from './auth/principal.js';
import { workspaceRoutes } from './routes/workspaces.js';
import { billingRoutes } from './routes/billing.js';
import { installDashboard, type DashboardOptions } from './dashboard/install.js';
import { enrollRoutes, type EnrollRouteOptions } from './routes/enroll.js';
import { signingGitConfig, type HubSigningKey } from './gitops/signing-key.js';
import { usageRefusalRoutes } from './routes/usage-refusals.js';
import { PlacementHistory } from './usage/placement-history.js';
import { UsageGate } from './usage/usage-gate.js';
import type { AdmissionLimits } from './usage/admission.js';
import { ConsoleTickets } from './desktop/console-tickets.js';
import { ConsoleBroker } from './desktop/console-broker.js';
import { GuacamoleLinks, type GuacamoleOptions } from './desktop/guacamole-links.js';
import { desktopRoutes } from './routes/desktops.js';
import { ingressRoutes, type IngressRouteOptions } from './routes/ingress.js';
import { DEFAULT_APPS_URL, parseAppsUrl, type AppsUrl } from '../common/ingress/apps-url.js';
import { IngressSync } from './ingress/ingress-sync.js';
import type { HubAgeIdentity } from './secrets/hub-identity.js';
import { buildVolumeKeys } from './volumes/install.js';
import { buildSecrets } from './secrets/install.js';
import { workspaceSecretRoutes } from './routes/workspace-secrets.js';
import { reencryptForPlacement } from './secrets/repo-reencrypt.js';
import type { InfraRepo } from '../common/infra/model.js';
import { Counter } from 'prom-client';
import { Invoicer } from './invoicing/invoicer.js';
import { FleetMetrics } from './metrics/fleet-metrics.js';
import { UsageReceipts } from './metrics/usage-receipts.js';
import { snapshotFromInfra } from './scheduler/from-infra.js';
import { liveFleet, nodeStatusOf } from './workspaces/live-fleet.js';
import { InfraRepoWriter } from './gitops/repo-writer.js';
import { WorkspaceService } from './workspaces/workspace-service.js';
import { GpuHistory } from './dashboard/gpu-history.js';
import { LiveEvents } from './dashboard/live-events.js';
import { AppIndex } from './ingress/app-index.js';
import { AppSessions } from './ingress/app-sessions.js';
import { FoundryError } from '../common/errors.js';
import { hubErrorHandler } from './error-handler.js';
import type { GitopsServices, HubServices } from './services.js';

const ALERTS_METRIC = 'foundry_hub_billing_alerts_total';

/** The bus topic on which a replica that learnt of a new revision tells the others (hub/store/bus.ts). */
const SYNC_NOW_TOPIC = 'sync_now';

/** Collaborators of the app; the caller owns the store (and closes it after the app). */
export interface AppDeps {
  store: HubStore;
  /** Fastify/pino logger options; false for none. */
  logger?: FastifyServerOptions['logger'];
  /** Addresses (and CIDRs) of reverse proxies whose X-Forwarded-For/-Proto/-Host the hub believes (Fastify's trustProxy); none when absent. */
  trustProxy?: string;
  /** TLS: PEM certificate and key. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** The hosted bare repo (folder named infra.git); absent in external-repo mode. */
  repoDir?: string;
  /** Secret of the GitLab push webhook; the webhook is off without it. */
  webhookSecret?: string;
  /** External infra repo (instead of repoDir): its URL, git environment with the credential, the writer's clone. */
  externalRepo?: { url: string; gitEnv?: Record<string, string>; workDir: string };
  /** How often the hub re-reads the repo's tip and refreshes lifecycles (default 2 s; 0: only on demand). */
  repoPollMs?: number;
  /** The hub's SSH key: every commit it makes is signed with it, and GET /api/v1/hub/signing-key serves its line. */
  signingKey?: HubSigningKey;
  /** Checks the branch tip before the hub commits on top of it (tipVerifier: allowed signers). */
  verifyBase?: (dir: string, revision: string) => Promise<void>;
  metrics?: HubMetrics;
  /** Protocol abuse limits and keepalive (tests shorten them). */
  badFrameLimit?: number;
  badFrameWindowMs?: number;
  heartbeatMs?: number;
  /** How often buffered telemetry is written (default 5 s). */
  telemetryFlushMs?: number;
  /** Dashboard tuning (poll interval, login limits, clock); TLS decides Secure cookies. */
  dashboard?: Omit<DashboardOptions, 'secure'>;
  /** Usage admission tolerances (clock skew, sync grace, longest record); defaults in hub/usage/admission.ts. */
  usageLimits?: AdmissionLimits;
  /** Desktops: Apache Guacamole sign-in (off without it), how long an agent has to dial back a console (default 15 s). */
  desktop?: { guacamole?: GuacamoleOptions; dialBackMs?: number };
  /** Apps and the ingress: the apps URL (--apps-url) and the hub's URL as browsers reach it; route polling period. */
  ingress?: { apps: AppsUrl; hubPublicUrl: string; intervalMs?: number };
  /** App authorisation: how long nginx may cache a decision (default 5 s), the clock (tests). */
  appAuth?: Pick<IngressRouteOptions, 'decisionTtlS' | 'now'>;
  /** The hub's age identity (hub/secrets/hub-identity.ts): without it there are no tenant secrets and no encrypted volumes (their keys are encrypted at rest to it). */
  ageIdentity?: HubAgeIdentity;
  /** Enrollment: data dir (bundle cache; node files are committed only with one), public URL, external repo URL. */
  enroll?: Pick<EnrollRouteOptions, 'dataDir' | 'publicUrl' | 'externalRepoUrl' | 'packageRoot' | 'now'>;
}

/** Builds the hub's Fastify app (not listening yet): its services once, then the routes that receive them. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const options: FastifyServerOptions & { https?: unknown } = { logger: deps.logger ?? false, forceCloseConnections: true };
  if (deps.trustProxy !== undefined) options.trustProxy = deps.trustProxy;
  if (deps.tls !== undefined) options.https = { cert: deps.tls.cert, key: deps.tls.key };
  const app = Fastify(options as FastifyServerOptions) as unknown as FastifyInstance;
  // One error handler for every route: the catalog's codes → HTTP statuses (hub/error-handler.ts).
  app.setErrorHandler(hubErrorHandler);
  const lifecycle = { stopping: false };
  const services = await buildServices(app, deps, lifecycle);
  app.decorate('hub', services);
  await installRoutes(app, services, deps, () => lifecycle.stopping);
  return app;
}

/** Builds every service of the hub once; timers and loops stop with the app. */
async function buildServices(app: FastifyInstance, deps: AppDeps, lifecycle: { stopping: boolean }): Promise<HubServices> {
  const { store } = deps;
  const metrics = deps.metrics ?? createMetrics();
  const warn = (msg: string) => (err: unknown): void => app.log.warn({ err: err instanceof Error ? err.message : String(err) }, msg);
  const queue = new IngestQueue(store, metrics, app.log, undefined, deps.telemetryFlushMs);
  const ext = deps.externalRepo;
  // The one writer of the infra repo (placements, drains, enrollment's node files): one clone, one commit queue.
  const gitops = buildGitops(app, deps, {
    onPushed: (rev) => services.notifyRevision(rev, 'refs/heads/main', 'push', 'foundry-hub'),
    connectedNodes: () => services.gateway.connectedNodes(),
  });
  // Usage is admitted against the Git history of placements; a hub without a repo has none to check against.
  // External repo: the writer's clone, fetched (throttled) before each read.
  const writer = gitops?.writer;
  const history =
    deps.repoDir !== undefined
      ? new PlacementHistory({ gitDir: deps.repoDir })
      : ext !== undefined && writer !== undefined
        ? new PlacementHistory({ gitDir: join(ext.workDir, '.git'), ref: 'refs/remotes/origin/main', beforeRead: () => writer.fetch() })
        : undefined;
  const usage = history === undefined ? undefined : new UsageGate({ history, usage: store.usage, limits: deps.usageLimits });
  if (usage === undefined) app.log.warn('usage admission is off: this hub has no infra repo to check placements against');
  const gateway = new AgentGateway({ store, queue, metrics, log: app.log, usage, badFrameLimit: deps.badFrameLimit, badFrameWindowMs: deps.badFrameWindowMs, heartbeatMs: deps.heartbeatMs });

  const notifyRevision = (revision: string, ref: string | undefined, source: 'push' | 'webhook', actor: string): number => {
    void store.recordRevision(revision, ref, source).catch((err: unknown) => app.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'revision not recorded'));
    void store.audit(actor, `repo.${source}`, ref, { revision }).catch((err: unknown) => app.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'audit entry not written'));
    history?.refresh().catch((err: unknown) => app.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'placement history not refreshed'));
    // Keys of workspaces deleted with reclaimPolicy Delete (or of deleted tenants) are destroyed first.
    services.volumeKeys?.reap(actor).catch((err: unknown) => app.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'volume key reaping failed'));
    // First version: every connected agent syncs; agents whose rendered state did not change do nothing.
    const n = gateway.broadcast({ name: 'sync-now', revision, reason: `new revision ${revision.slice(0, 12)} (${source})` });
    // Agents of the other replicas: each broadcasts to its own on this message (this one already did).
    store.bus.publish(SYNC_NOW_TOPIC, { revision, source }).catch((err: unknown) => app.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'sync-now not published to the other replicas'));
    // Placements may have moved: each node's workspace secrets follow the new tip.
    if (services.secrets !== undefined) void services.secrets.delivery.reconcile(true).catch(() => undefined);
    app.log.info({ revision, ref, source, agents: n }, 'sent sync-now');
    return n;
  };

  // Consoles: the browser's and the agent's tunnel WebSockets meet in the broker.
  const consoles = new ConsoleBroker({ store, gateway, tickets: new ConsoleTickets(), log: app.log, dialBackMs: deps.desktop?.dialBackMs });
  // Dashboard live updates, and the GPU sparklines they feed.
  const gpuHistory = new GpuHistory();
  const live = new LiveEvents(store.fleet, gpuHistory, () => gateway.connectedNodes(), warn('dashboard: live events poll failed'));
  const pollMs = deps.dashboard?.pollMs ?? 1000;
  if (pollMs > 0) app.addHook('onReady', async () => live.start(pollMs));
  app.addHook('preClose', async () => live.stop());
  // No Git read per app request: the workspace service's repo of the branch tip, re-read by its sync loop.
  const appIndex = new AppIndex(async () => {
    if (gitops === undefined) throw new FoundryError('NOT_FOUND', 'this hub has no infra repo');
    return gitops.workspaces.repo({ cached: true });
  });
  const ageIdentity = deps.ageIdentity;
  const volumeKeys = ageIdentity === undefined ? undefined : buildVolumeKeys(app, { store, gateway, gitops }, ageIdentity);
  const secrets = ageIdentity === undefined || gitops === undefined ? undefined : buildSecrets(app, { store, gateway, workspaces: gitops.workspaces }, ageIdentity, deps.repoPollMs);
  const services: HubServices = {
    store,
    gateway,
    metrics,
    apps: deps.ingress?.apps,
    notifyRevision,
    gitops,
    usage,
    invoicer: buildInvoicer(app, store, metrics),
    consoles,
    guacamole: deps.desktop?.guacamole === undefined ? undefined : new GuacamoleLinks(deps.desktop.guacamole, (socket, req) => consoles.openTcp(socket, req)),
    live,
    gpuHistory,
    appIndex,
    appSessions: new AppSessions(store.appSessions),
    ingress: buildIngress(app, { store, gateway, gitops }, deps.ingress),
    secrets,
    volumeKeys,
  };
  // read the history now, so the first records do not wait for it
  history?.refresh().catch(warn('placement history not read yet'));
  installFleetMetrics(app, services);
  // Another replica learnt of a new revision: this one tells its own agents (and re-reads placements).
  const stopSyncNow = await store.bus.subscribe(SYNC_NOW_TOPIC, (p, { fromSelf }) => {
    const { revision, source } = p as { revision?: unknown; source?: unknown };
    if (fromSelf || typeof revision !== 'string' || typeof source !== 'string') return;
    history?.refresh().catch(warn('placement history not refreshed'));
    gateway.broadcast({ name: 'sync-now', revision, reason: `new revision ${revision.slice(0, 12)} (${source}, via another replica)` });
  });
  // Graceful stop: refuse new agents, commit and ack what arrived, close sockets; the server then stops.
  app.addHook('preClose', async () => {
    lifecycle.stopping = true;
    await stopSyncNow();
    await consoles.close();
    await services.ingress?.stop();
    await gateway.close();
  });
  return services;
}

/** The infra repo's writer and the workspace service with its periodic sync; undefined without a repo. */
function buildGitops(app: FastifyInstance, deps: AppDeps, hub: { onPushed: (revision: string) => void; connectedNodes: () => string[] }): GitopsServices | undefined {
  const ext = deps.externalRepo;
  const repoDir = ext?.url ?? deps.repoDir;
  if (repoDir === undefined) return undefined;
  const { store } = deps;
  const verifyBase = deps.verifyBase;
  const ageIdentity = deps.ageIdentity;
  const writer = new InfraRepoWriter({
    repoDir,
    workDir: ext?.workDir ?? join(dirname(repoDir), 'gitops-work'),
    gitEnv: ext?.gitEnv,
    gitConfig: deps.signingKey === undefined ? undefined : signingGitConfig(deps.signingKey),
    verifyBase,
    // every push, the service's own (it notes them per commit) and enrollment's
    onPushed: hub.onPushed,
  });
  const workspaces = new WorkspaceService({
    writer,
    lifecycle: store.lifecycles,
    audit: (actor, action, target, details) => store.audit(actor, action, target, details),
    // Several replicas (PostgreSQL): a node is online when its agent is connected here or to another replica (the store's status).
    live: async (repo) => liveFleet(store.fleet, repo, store.backend === 'sqlite' ? hub.connectedNodes() : [...hub.connectedNodes(), ...(await store.nodes()).filter((n) => n.status === 'connected' && !n.revoked).map((n) => n.name)]),
    nodeStatus: nodeStatusOf(store.fleet),
    log: app.log,
    // Placement commits re-encrypt the repo secrets whose nodes they change (the hub decrypts with its own key).
    reencrypt: ageIdentity === undefined ? undefined : (dir: string, before: InfraRepo, after: InfraRepo) => reencryptForPlacement(dir, before, after, ageIdentity),
    // Replicas place one at a time (an advisory lock on PostgreSQL; the Git push is the fence).
    lock: (name, fn) => store.leases.withLock(name, fn),
  });
  const every = deps.repoPollMs ?? 2000;
  if (every > 0) {
    const timer = setInterval(() => void workspaces.sync().catch((err: unknown) => app.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'workspace sync failed')), every);
    timer.unref();
    app.addHook('onClose', async () => clearInterval(timer));
  }
  return { writer, workspaces, lifecycle: store.lifecycles };
}

/** The invoicer, with its alert counter in the hub's registry (once per registry when apps share one). */
function buildInvoicer(app: FastifyInstance, store: HubStore, metrics: HubMetrics): Invoicer {
  const registry = metrics.registry;
  const alerts = (registry.getSingleMetric(ALERTS_METRIC) as Counter<'code'> | undefined)
    ?? new Counter({ name: ALERTS_METRIC, help: 'Invoice alerts logged for admins, by code: UNPRICED (GPU time without a price), UNRATABLE (stored usage records excluded from the amount).', labelNames: ['code'], registers: [registry] });
  return new Invoicer(store.billing, undefined, app.log, (code) => alerts.inc({ code }));
}

/** Registers every route, each with the services it uses. */
async function installRoutes(app: FastifyInstance, services: HubServices, deps: AppDeps, stopping: () => boolean): Promise<void> {
  const { store, gateway, metrics, consoles } = services;
  installAuth(app, store);
  // SSO redirect URIs use the hub's public URL when it is known (behind a proxy the request's own may differ).
  const ssoPublicUrl = deps.dashboard?.sso?.publicUrl ?? deps.enroll?.publicUrl;
  await installDashboard(app, services, { secure: deps.tls !== undefined, ...deps.dashboard, sso: { ...deps.dashboard?.sso, ...(ssoPublicUrl === undefined ? {} : { publicUrl: ssoPublicUrl }) } });
  // Consoles' tunnels go to the broker; every other upgrade is an agent's link.
  app.server.on('upgrade', (req, socket, head) => {
    if (ConsoleBroker.handles((req.url ?? '').split('?')[0] ?? '')) consoles.handleUpgrade(req, socket, head);
    else gateway.handleUpgrade(req, socket, head);
  });
  healthRoutes(app, store, stopping);
  // Admins only: the per-GPU series name workspaces and tenants, which no tenant may see of another.
  app.get('/metrics', { preHandler: requirePrincipal(app, { role: 'admin' }) }, async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  nodeRoutes(app, store, gateway);
  workspaceRoutes(app, services);
  desktopRoutes(app, services);
  if (services.secrets !== undefined && services.gitops !== undefined) await workspaceSecretRoutes(app, { workspaces: services.gitops.workspaces, secrets: services.secrets.store, delivery: services.secrets.delivery });
  billingRoutes(app, services);
  // A hub started without apps settings still answers for the default apps URL (http://apps.localhost:8088).
  ingressRoutes(app, services, { apps: deps.ingress?.apps ?? parseAppsUrl(DEFAULT_APPS_URL), hubUrl: () => deps.ingress?.hubPublicUrl, ...deps.appAuth });
  usageRefusalRoutes(app, services);
  // Enrollment commits node files to the hosted repo through the hub's one writer (a data dir is required, as for the bundle).
  const enrollWriter = deps.repoDir !== undefined && deps.enroll?.dataDir !== undefined ? services.gitops?.writer : undefined;
  enrollRoutes(app, services, { writer: enrollWriter, tlsCert: deps.tls?.cert, ...deps.enroll });
  const signer = deps.signingKey?.allowedSigner;
  // Public: the line admins add to the agents' allowed signers file (compare it with `foundry hub signing-key`).
  if (signer !== undefined) app.get('/api/v1/hub/signing-key', async (_req, reply) => reply.type('text/plain; charset=utf-8').send(`${signer}\n`));
  if (deps.webhookSecret !== undefined) {
    webhookRoutes(app, deps.webhookSecret, (rev, ref) => {
      // Re-read the repo now (place what an admin pushed unplaced, follow moves); polling is the fallback.
      void services.gitops?.workspaces.sync().catch((err: unknown) => app.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'workspace sync after webhook failed'));
      return services.notifyRevision(rev, ref, 'webhook', 'gitlab-webhook');
    });
  }
  if (deps.repoDir !== undefined) {
    await app.register(gitBackendPlugin, {
      repoDir: deps.repoDir,
      store,
      onPush: (refs: PushedRef[], actor: string) => refs.forEach((r) => services.notifyRevision(r.revision, r.ref, 'push', actor)),
      onPushResult: (result) => metrics.gitPushes.inc({ result }),
    });
  }
}

/** The fleet gauges (nodes, GPUs, workspaces, tenant costs) in the hub's registry; once per registry when apps share one. */
function installFleetMetrics(app: FastifyInstance, services: HubServices): void {
  const { store, gateway, metrics, gitops, invoicer } = services;
  if (metrics.registry.getSingleMetric('foundry_hub_node_connected') !== undefined) return;
  const usage = new UsageReceipts(store.usage);
  new FleetMetrics(metrics.registry, {
    nodes: () => store.nodes(),
    connected: () => gateway.connectedNodes(),
    ...(gitops === undefined ? {} : { repo: () => gitops.workspaces.repo() }),
    // The scheduler's own snapshot: GPU health reaches the gauges the way it reaches placement.
    snapshot: async (repo) => snapshotFromInfra(repo, await liveFleet(store.fleet, repo, gateway.connectedNodes())),
    usage: () => usage.read(),
    invoiceOf: async (repo, tenant, month) => (await invoicer.invoice(repo, tenant, month)).invoice,
    onError: (err) => app.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'fleet metrics: the infra repo could not be read'),
  });
}

/** Feeds the ingress nodes' agents with the route table (needs the infra repo); undefined without apps or repo. */
function buildIngress(app: FastifyInstance, hub: Pick<HubServices, 'store' | 'gateway' | 'gitops'>, opts: AppDeps['ingress']): IngressSync | undefined {
  const { gitops, store, gateway } = hub;
  if (opts === undefined || gitops === undefined) return undefined;
  const sync = new IngressSync({
    statuses: store.appSessions,
    repo: (fresh) => gitops.workspaces.repo({ cached: !fresh }),
    connectedNodes: () => gateway.connectedNodes(),
    command: (node, body) => gateway.command(node, body),
    // read on every use: the hub's own URL is known only once it listens
    settings: { appsDomain: opts.apps.domain, get hubPublicUrl() { return opts.hubPublicUrl; } },
    log: app.log,
    intervalMs: opts.intervalMs,
  });
  sync.start();
  return sync;
}

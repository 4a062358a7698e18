/**
 * The hub's HTTP application: API, agents' WebSocket, hosted Git repo, health and metrics on one port.
 * `buildApp(deps)` only wires; `listen()` lives in server.ts, so tests can use the app in-process.
 */
import { join } from 'node:path';
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
import { installWorkspaces } from './routes/workspaces.js';
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
import { installVolumeKeys } from './volumes/install.js';
import { installSecrets } from './secrets/install.js';
import { reencryptForPlacement } from './secrets/repo-reencrypt.js';
import type { InfraRepo } from '../common/infra/model.js';
import type { Invoicer } from './invoicing/invoicer.js';
import { FleetMetrics } from './metrics/fleet-metrics.js';
import { UsageReceipts } from './metrics/usage-receipts.js';
import { snapshotFromInfra } from './scheduler/from-infra.js';
import { liveFleet } from './workspaces/live-fleet.js';

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
  /** Enrollment: data dir (bundle cache, writer clone), public URL, external repo URL. */
  enroll?: Pick<EnrollRouteOptions, 'dataDir' | 'publicUrl' | 'externalRepoUrl' | 'packageRoot' | 'now'>;
}

/** What the app exposes to the rest of the hub (dashboard, scheduler, CLI). */
export interface HubContext {
  store: HubStore;
  gateway: AgentGateway;
  metrics: HubMetrics;
  /** Where apps are reached (--apps-url); undefined when the hub runs without apps. */
  apps: AppsUrl | undefined;
  /** Tells agents to sync now after a new revision; returns how many were told. */
  notifyRevision(revision: string, ref: string | undefined, source: 'push' | 'webhook', actor: string): number;
}

declare module 'fastify' {
  interface FastifyInstance {
    hub: HubContext;
  }
}

/** Builds the hub's Fastify app (not listening yet). */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const options: FastifyServerOptions & { https?: unknown } = { logger: deps.logger ?? false, forceCloseConnections: true };
  if (deps.trustProxy !== undefined) options.trustProxy = deps.trustProxy;
  if (deps.tls !== undefined) options.https = { cert: deps.tls.cert, key: deps.tls.key };
  const app = Fastify(options as FastifyServerOptions) as unknown as FastifyInstance;
  const { store } = deps;
  const metrics = deps.metrics ?? createMetrics();
  const queue = new IngestQueue(store, metrics, app.log, undefined, deps.telemetryFlushMs);
  const ext = deps.externalRepo;
  // Usage is admitted against the Git history of placements; a hub without a repo has none to check against.
  // External repo: the writer's clone, fetched (throttled) before each read; the writer exists once the routes are installed.
  const history =
    deps.repoDir !== undefined
      ? new PlacementHistory({ gitDir: deps.repoDir })
      : ext !== undefined
        ? new PlacementHistory({ gitDir: join(ext.workDir, '.git'), ref: 'refs/remotes/origin/main', beforeRead: () => app.gitops.writer.fetch() })
        : undefined;
  const usage = history === undefined ? undefined : new UsageGate({ history, usage: store.usage, limits: deps.usageLimits });
  if (usage === undefined) app.log.warn('usage admission is off: this hub has no infra repo to check placements against');
  const gateway = new AgentGateway({ store, queue, metrics, log: app.log, usage, badFrameLimit: deps.badFrameLimit, badFrameWindowMs: deps.badFrameWindowMs, heartbeatMs: deps.heartbeatMs });
  let stopping = false;

  const notifyRevision = (revision: string, ref: string | undefined, source: 'push' | 'webhook', actor: string): number => {
    void store.recordRevision(revision, ref, source).catch((err: unknown) => app.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'revision not recorded'));
    void store.audit(actor, `repo.${source}`, ref, { revision }).catch((err: unknown) => app.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'audit entry not written'));
    history?.refresh().catch((err: unknown) => app.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'placement history not refreshed'));
    // Keys of workspaces deleted with reclaimPolicy Delete (or of deleted tenants) are destroyed first.
    if (app.hasDecorator('volumeKeys')) app.volumeKeys.reap(actor).catch((err: unknown) => app.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'volume key reaping failed'));
    // First version: every connected agent syncs; agents whose rendered state did not change do nothing.
    const n = gateway.broadcast({ name: 'sync-now', revision, reason: `new revision ${revision.slice(0, 12)} (${source})` });
    // Agents of the other replicas: each broadcasts to its own on this message (this one already did).
    store.bus.publish(SYNC_NOW_TOPIC, { revision, source }).catch((err: unknown) => app.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'sync-now not published to the other replicas'));
    // Placements may have moved: each node's workspace secrets follow the new tip.
    if (app.hasDecorator('secrets')) void app.secrets.delivery.reconcile(true).catch(() => undefined);
    app.log.info({ revision, ref, source, agents: n }, 'sent sync-now');
    return n;
  };
  const stopSyncNow = await store.bus.subscribe(SYNC_NOW_TOPIC, (p, { fromSelf }) => {
    const { revision, source } = p as { revision?: unknown; source?: unknown };
    if (fromSelf || typeof revision !== 'string' || typeof source !== 'string') return;
    history?.refresh().catch((err: unknown) => app.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'placement history not refreshed'));
    gateway.broadcast({ name: 'sync-now', revision, reason: `new revision ${revision.slice(0, 12)} (${source}, via another replica)` });
  });
  app.decorate('hub', { store, gateway, metrics, apps: deps.ingress?.apps, notifyRevision });
  installAuth(app, store);
  // SSO redirect URIs use the hub's public URL when it is known (behind a proxy the request's own may differ).
  const ssoPublicUrl = deps.dashboard?.sso?.publicUrl ?? deps.enroll?.publicUrl;
  await installDashboard(app, { secure: deps.tls !== undefined, ...deps.dashboard, sso: { ...deps.dashboard?.sso, ...(ssoPublicUrl === undefined ? {} : { publicUrl: ssoPublicUrl }) } });

  // Consoles: the browser's and the agent's tunnel WebSockets meet in the broker; everything else is the agents' link.
  const consoles = new ConsoleBroker({ store, gateway, tickets: new ConsoleTickets(), log: app.log, dialBackMs: deps.desktop?.dialBackMs });
  app.server.on('upgrade', (req, socket, head) => {
    if (ConsoleBroker.handles((req.url ?? '').split('?')[0] ?? '')) consoles.handleUpgrade(req, socket, head);
    else gateway.handleUpgrade(req, socket, head);
  });
  healthRoutes(app, store, () => stopping);
  // Admins only: the per-GPU series name workspaces and tenants, which no tenant may see of another.
  app.get('/metrics', { preHandler: requirePrincipal(app, { role: 'admin' }) }, async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  nodeRoutes(app, store, gateway);
  const gitConfig = deps.signingKey === undefined ? undefined : signingGitConfig(deps.signingKey);
  const verifyBase = deps.verifyBase;
  const ageIdentity = deps.ageIdentity;
  // Placement commits re-encrypt the repo secrets whose nodes they change (the hub decrypts with its own key).
  const reencrypt = ageIdentity === undefined ? undefined : (dir: string, before: InfraRepo, after: InfraRepo) => reencryptForPlacement(dir, before, after, ageIdentity);
  installWorkspaces(app, ext === undefined ? { repoDir: deps.repoDir, syncIntervalMs: deps.repoPollMs, gitConfig, verifyBase, reencrypt } : { repoDir: ext.url, workDir: ext.workDir, gitEnv: ext.gitEnv, syncIntervalMs: deps.repoPollMs, gitConfig, verifyBase, reencrypt });
  // read the history now (after the writer exists), so the first records do not wait for it
  history?.refresh().catch((err: unknown) => app.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'placement history not read yet'));
  const guac = deps.desktop?.guacamole;
  desktopRoutes(app, { tickets: consoles.tickets, guacamole: guac === undefined ? undefined : new GuacamoleLinks(guac, (socket, req) => consoles.openTcp(socket, req)) });
  const ingress = installIngress(app, deps.ingress);
  if (deps.ageIdentity !== undefined) installVolumeKeys(app, deps.ageIdentity);
  if (deps.ageIdentity !== undefined && app.hasDecorator('gitops')) await installSecrets(app, deps.ageIdentity, deps.repoPollMs);
  installFleetMetrics(app, billingRoutes(app));
  // A hub started without apps settings still answers for the default apps URL (http://apps.localhost:8088).
  ingressRoutes(app, { apps: deps.ingress?.apps ?? parseAppsUrl(DEFAULT_APPS_URL), hubUrl: () => deps.ingress?.hubPublicUrl, ...deps.appAuth });
  usageRefusalRoutes(app);
  enrollRoutes(app, { store, repoDir: deps.repoDir, tlsCert: deps.tls?.cert, gitConfig, verifyBase, ...deps.enroll });
  const signer = deps.signingKey?.allowedSigner;
  // Public: the line admins add to the agents' allowed signers file (compare it with `foundry hub signing-key`).
  if (signer !== undefined) app.get('/api/v1/hub/signing-key', async (_req, reply) => reply.type('text/plain; charset=utf-8').send(`${signer}\n`));
  if (deps.webhookSecret !== undefined) {
    webhookRoutes(app, deps.webhookSecret, (rev, ref) => {
      // Re-read the repo now (place what an admin pushed unplaced, follow moves); polling is the fallback.
      if (app.hasDecorator('gitops')) void app.gitops.workspaces.sync().catch((err: unknown) => app.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'workspace sync after webhook failed'));
      return notifyRevision(rev, ref, 'webhook', 'gitlab-webhook');
    });
  }
  if (deps.repoDir !== undefined) {
    const repoDir = deps.repoDir;
    await app.register(gitBackendPlugin, {
      repoDir,
      store,
      onPush: (refs: PushedRef[], actor: string) => refs.forEach((r) => notifyRevision(r.revision, r.ref, 'push', actor)),
      onPushResult: (result) => metrics.gitPushes.inc({ result }),
    });
  }
  // Graceful stop: refuse new agents, commit and ack what arrived, close sockets; the server then stops.
  app.addHook('preClose', async () => {
    stopping = true;
    await stopSyncNow();
    await consoles.close();
    await ingress?.stop();
    await gateway.close();
  });
  return app;
}

/** The fleet gauges (nodes, GPUs, workspaces, tenant costs) in the hub's registry; once per registry when apps share one. */
function installFleetMetrics(app: FastifyInstance, invoicer: Invoicer): void {
  const { store, gateway, metrics } = app.hub;
  if (metrics.registry.getSingleMetric('foundry_hub_node_connected') !== undefined) return;
  const usage = new UsageReceipts(store.usage);
  const gitops = app.hasDecorator('gitops') ? app.gitops : undefined;
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
function installIngress(app: FastifyInstance, opts: AppDeps['ingress']): IngressSync | undefined {
  if (opts === undefined || !app.hasDecorator('gitops')) return undefined;
  const { gitops, hub } = app;
  const sync = new IngressSync({
    statuses: hub.store.appSessions,
    repo: (fresh) => gitops.workspaces.repo({ cached: !fresh }),
    connectedNodes: () => hub.gateway.connectedNodes(),
    command: (node, body) => hub.gateway.command(node, body),
    // read on every use: the hub's own URL is known only once it listens
    settings: { appsDomain: opts.apps.domain, get hubPublicUrl() { return opts.hubPublicUrl; } },
    log: app.log,
    intervalMs: opts.intervalMs,
  });
  sync.start();
  return sync;
}

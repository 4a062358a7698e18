/**
 * Workspaces API and node drain, through Git: POST/GET/stop/start/DELETE /api/v1/workspaces and
 * POST /api/v1/nodes/:name/drain|undrain. Installs the hub's InfraRepoWriter (app.gitops.writer, the
 * one way the hub writes to the infra repo) and the WorkspaceService with its periodic sync.
 */
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FoundryError } from '../../common/errors.js';
import { describeAjvErrors, validatorFor } from '../../common/schema.js';
import type { WorkspaceCreateRequest } from '../../common/generated/http/workspace-create.js';
import type { InfraRepo, Workspace, WorkspaceTemplate } from '../../common/infra/model.js';
import { encryptedKeyRefs } from '../../common/volumes/encrypted-refs.js';
import { actorOf, canAccessTenant, requirePrincipal } from '../auth/principal.js';
import { InfraRepoWriter } from '../gitops/repo-writer.js';
import type { LifecycleRepo, LifecycleRow } from '../store/lifecycle-repo.js';
import { REMOVAL_PENDING } from '../workspaces/lifecycle.js';
import { liveFleet, nodeStatusOf } from '../workspaces/live-fleet.js';
import { WorkspaceService, type WorkspaceServiceDeps } from '../workspaces/workspace-service.js';
import { sendError } from '../workspaces/http-errors.js';

/** What the gitops side of the hub exposes to other modules (enrollment, dashboard). */
export interface GitopsContext {
  writer: InfraRepoWriter;
  workspaces: WorkspaceService;
  lifecycle: LifecycleRepo;
}

declare module 'fastify' {
  interface FastifyInstance {
    gitops: GitopsContext;
  }
}

/** Options of installWorkspaces. */
export interface WorkspaceRoutesOptions {
  /** The hosted bare repo, or the external repo's URL. Without it there is no placement. */
  repoDir: string | undefined;
  /** The writer's private clone (default: gitops-work next to the hosted repo; required for a URL). */
  workDir?: string;
  /** git environment for the external repo (its credential); never logged. */
  gitEnv?: Record<string, string>;
  /** git settings of every commit (the hub's signing key). */
  gitConfig?: string[];
  /** Checks the tip before the hub commits on top of it (signature policy). */
  verifyBase?: (dir: string, revision: string) => Promise<void>;
  /** How often lifecycles and new revisions are checked (default 2 s; 0: only on demand). */
  syncIntervalMs?: number;
  /** Re-encrypts repo secrets in placement commits (the hub's age identity; hub/secrets/repo-reencrypt.ts). */
  reencrypt?: WorkspaceServiceDeps['reencrypt'];
}

/**
 * Whether a workspace's data is encrypted at rest, for the API and the dashboard: `encrypted` (every
 * volume and disk), `partly` (some volumes opt out), `not-encrypted` (the template opts out), `no-data`
 * (nothing to encrypt); the opted-out volumes; and what a move does to the data (docs/volumes.md).
 */
export function encryptionView(name: string, template: WorkspaceTemplate | undefined): { atRest: 'encrypted' | 'partly' | 'not-encrypted' | 'no-data'; optedOut: string[]; dataOnMove: 'refuse' | 'drop' } | null {
  if (template === undefined) return null;
  const volumes = [...new Set((template.spec.containers ?? []).flatMap((c) => (c.volumes ?? []).flatMap((v) => (v.name === undefined ? [] : [v.name]))))].sort();
  const hasDisk = template.spec.vm?.driver === 'libvirt' && template.spec.vm.disk !== undefined;
  const encrypted = encryptedKeyRefs(name, template);
  const optedOut = volumes.filter((v) => !encrypted.some((r) => r.kind === 'volume' && r.name === v));
  const total = volumes.length + (hasDisk ? 1 : 0);
  const atRest = total === 0 ? 'no-data' : encrypted.length === 0 ? 'not-encrypted' : encrypted.length < total ? 'partly' : 'encrypted';
  return { atRest, optedOut, dataOnMove: template.spec.dataOnMove ?? 'refuse' };
}

/** A workspace as the API returns it (`template`: its template document, for the encryption view). */
export function workspaceView(doc: Workspace | undefined, row: LifecycleRow | undefined, file?: string, template?: WorkspaceTemplate): Record<string, unknown> {
  const s = doc?.spec;
  return {
    name: doc?.metadata.name ?? row?.name,
    tenant: s?.tenant ?? row?.tenant,
    template: s?.template ?? null,
    encryption: doc === undefined ? null : encryptionView(doc.metadata.name, template),
    gpus: { count: s?.gpus?.count ?? 0, model: s?.gpus?.model ?? null, uuids: s?.gpus?.uuids ?? [] },
    node: s?.node ?? row?.node ?? null,
    state: s === undefined ? null : (s.state ?? 'running'),
    labels: doc?.metadata.labels ?? {},
    file: file ?? null,
    status: row === undefined ? null : { phase: row.phase, reason: row.reason, message: row.message, revision: row.revision, ...row.times, updatedAt: row.updatedAt },
  };
}

/** True when the workspace's template declares a libvirt VM, whose console the dashboard can open ("Open desktop"). */
export function hasDesktop(repo: InfraRepo, doc: Workspace): boolean {
  return repo.templates.get(doc.spec.template)?.doc.spec.vm?.driver === 'libvirt';
}

/** Registers the workspace routes (no-op without a repo). */
export function installWorkspaces(app: FastifyInstance, opts: WorkspaceRoutesOptions): void {
  if (opts.repoDir === undefined) return;
  const store = app.hub.store;
  const lifecycle = store.lifecycles;
  const late: { service?: WorkspaceService } = {};
  const writer = new InfraRepoWriter({
    repoDir: opts.repoDir,
    workDir: opts.workDir ?? join(dirname(opts.repoDir), 'gitops-work'),
    gitEnv: opts.gitEnv,
    gitConfig: opts.gitConfig,
    verifyBase: opts.verifyBase,
    onPushed: (rev) => {
      late.service?.notePushed(rev);
      app.hub.notifyRevision(rev, 'refs/heads/main', 'push', 'foundry-hub');
    },
  });
  const ws = new WorkspaceService({
    writer,
    lifecycle,
    audit: (actor, action, target, details) => store.audit(actor, action, target, details),
    // Several replicas (PostgreSQL): a node is online when its agent is connected here or to another replica (the store's status).
    live: async (repo) => liveFleet(store.fleet, repo, store.backend === 'sqlite' ? app.hub.gateway.connectedNodes() : [...app.hub.gateway.connectedNodes(), ...(await store.nodes()).filter((n) => n.status === 'connected' && !n.revoked).map((n) => n.name)]),
    nodeStatus: nodeStatusOf(store.fleet),
    log: app.log,
    reencrypt: opts.reencrypt,
    lock: (name, fn) => store.leases.withLock(name, fn),
  });
  late.service = ws;
  app.decorate('gitops', { writer, workspaces: ws, lifecycle });
  const validate = validatorFor<WorkspaceCreateRequest>('http/workspace-create.schema.json');
  const anyone = requirePrincipal(app);
  const admin = requirePrincipal(app, { role: 'admin' });

  // The workspace of a request, hidden (404) from tenants it does not belong to.
  const visible = async (req: FastifyRequest<{ Params: { name: string } }>): Promise<{ repo: InfraRepo; doc: Workspace }> => {
    const repo = await ws.repo();
    const doc = repo.workspaces.get(req.params.name)?.doc;
    if (doc === undefined || !canAccessTenant(req.principal, doc.spec.tenant)) throw new FoundryError('NOT_FOUND', `no workspace ${req.params.name}`, { resource: req.params.name });
    return { repo, doc };
  };
  const guard = async (reply: FastifyReply, fn: () => Promise<unknown>): Promise<unknown> => {
    try {
      return await fn();
    } catch (err) {
      return sendError(reply, err);
    }
  };

  app.post<{ Body: unknown }>('/api/v1/workspaces', { preHandler: anyone }, async (req, reply) => {
    if (!validate(req.body)) return reply.code(400).send({ code: 'BAD_REQUEST', message: 'invalid workspace request', errors: describeAjvErrors(validate.errors) });
    const body = req.body;
    if (!canAccessTenant(req.principal, body.tenant)) return reply.code(403).send({ code: 'AUTH_FORBIDDEN', message: `no access to tenant ${body.tenant}` });
    return guard(reply, async () => {
      const r = await ws.create(body, actorOf(req.principal));
      if (!r.ok) return reply.code(409).send({ code: 'PLACEMENT_NONE', message: r.refusal.explanation, workspace: r.refusal.workspace, reasons: r.refusal.reasons });
      const p = r.placement;
      return reply.code(201).send({ name: p.workspace, tenant: p.tenant, node: p.node, gpus: { model: p.gpuModel ?? null, uuids: p.gpuUuids }, revision: r.revision, explanation: p.explanation, status: await ws.lifecycleView(p.workspace) });
    });
  });

  app.get<{ Querystring: { tenant?: string } }>('/api/v1/workspaces', { preHandler: anyone }, async (req, reply) => {
    const p = req.principal;
    const tenant = req.query.tenant ?? (p?.role === 'tenant' ? p.tenant : undefined);
    if (tenant !== undefined && !canAccessTenant(p, tenant)) return reply.code(403).send({ code: 'AUTH_FORBIDDEN', message: `no access to tenant ${tenant}` });
    return guard(reply, async () => {
      const repo = await ws.repo();
      await ws.refreshLifecycle(repo);
      const rows = new Map((await lifecycle.list()).map((row) => [row.name, row]));
      const items = [...repo.workspaces.values()]
        .filter(({ doc }) => (tenant === undefined ? p?.role === 'admin' : doc.spec.tenant === tenant))
        .sort((a, b) => (a.doc.metadata.name < b.doc.metadata.name ? -1 : 1))
        .map(({ doc, source }) => ({ ...workspaceView(doc, rows.get(doc.metadata.name), source.file, repo.templates.get(doc.spec.template)?.doc), desktop: hasDesktop(repo, doc) }));
      // Removed from Git but still run by their node (removal pending or refused by its prune guard): listed until gone.
      const lingering = [...rows.values()]
        .filter((row) => !repo.workspaces.has(row.name) && row.phase !== 'Deleted' && REMOVAL_PENDING.has(row.reason))
        .filter((row) => (tenant === undefined ? p?.role === 'admin' : row.tenant === tenant))
        .map((row) => workspaceView(undefined, row));
      return { revision: repo.revision, workspaces: [...items, ...lingering] };
    });
  });

  app.get<{ Params: { name: string } }>('/api/v1/workspaces/:name', { preHandler: anyone }, async (req, reply) =>
    guard(reply, async () => {
      const row = await lifecycle.get(req.params.name);
      const repo = await ws.repo();
      await ws.refreshLifecycle(repo);
      const located = repo.workspaces.get(req.params.name);
      const tenant = located?.doc.spec.tenant ?? row?.tenant;
      if (tenant === undefined || !canAccessTenant(req.principal, tenant)) throw new FoundryError('NOT_FOUND', `no workspace ${req.params.name}`, { resource: req.params.name });
      const template = located === undefined ? undefined : repo.templates.get(located.doc.spec.template)?.doc;
      return { ...workspaceView(located?.doc, await lifecycle.get(req.params.name), located?.source.file, template), desktop: located !== undefined && hasDesktop(repo, located.doc), events: await lifecycle.events(req.params.name) };
    }),
  );

  for (const [verb, state] of [['stop', 'stopped'], ['start', 'running']] as const) {
    app.post<{ Params: { name: string } }>(`/api/v1/workspaces/:name/${verb}`, { preHandler: anyone }, async (req, reply) =>
      guard(reply, async () => {
        await visible(req);
        const changed = await ws.setState(req.params.name, state, actorOf(req.principal));
        return { name: req.params.name, state, changed };
      }),
    );
  }

  app.delete<{ Params: { name: string } }>('/api/v1/workspaces/:name', { preHandler: anyone }, async (req, reply) =>
    guard(reply, async () => {
      const { doc } = await visible(req);
      const keys = app.hasDecorator('volumeKeys') ? app.volumeKeys : undefined;
      await keys?.refresh();
      const had = (await keys?.countOf(req.params.name)) ?? 0;
      await ws.remove(req.params.name, actorOf(req.principal));
      // reclaimPolicy Delete: its volume keys are destroyed now (here or by the reaper the commit woke), before any agent prunes the data.
      await keys?.reap(actorOf(req.principal));
      // Named only for a workspace that had volume keys: true when they are gone (reclaimPolicy Delete), false when kept (Retain).
      const keysDestroyed = had > 0 ? { keysDestroyed: (await keys?.countOf(req.params.name)) === 0 } : {};
      // its tenant secrets go with it (a workspace made again later under the name starts without them)
      if (app.hasDecorator('secrets')) await app.secrets.store.removeAll(req.params.name, doc.spec.tenant, actorOf(req.principal));
      return { name: req.params.name, deleted: true, ...keysDestroyed };
    }),
  );

  for (const [verb, drain] of [['drain', true], ['undrain', false]] as const) {
    app.post<{ Params: { name: string } }>(`/api/v1/nodes/:name/${verb}`, { preHandler: admin }, async (req, reply) =>
      guard(reply, async () => ({ node: req.params.name, drain, changed: await ws.setDrain(req.params.name, drain, actorOf(req.principal)) })),
    );
  }

  const every = opts.syncIntervalMs ?? 2000;
  if (every > 0) {
    const timer = setInterval(() => void ws.sync().catch((err: unknown) => app.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'workspace sync failed')), every);
    timer.unref();
    app.addHook('onClose', async () => clearInterval(timer));
  }
}

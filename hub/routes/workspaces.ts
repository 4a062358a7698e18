/**
 * Workspaces API and node drain, through Git: POST/GET/stop/start/DELETE /api/v1/workspaces and
 * POST /api/v1/nodes/:name/drain|undrain, over the hub's WorkspaceService (built by hub/app.ts).
 * Errors are thrown; the hub's error handler answers them.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FoundryError } from '../../common/errors.js';
import { describeAjvErrors, validatorFor } from '../../common/schema.js';
import type { WorkspaceCreateRequest } from '../../common/generated/http/workspace-create.js';
import type { InfraRepo, Workspace, WorkspaceTemplate } from '../../common/infra/model.js';
import { encryptedKeyRefs } from '../../common/volumes/encrypted-refs.js';
import { actorOf, canAccessTenant, requirePrincipal } from '../auth/principal.js';
import type { LifecycleRow } from '../store/lifecycle-repo.js';
import { REMOVAL_PENDING } from '../workspaces/lifecycle.js';
import type { HubServices } from '../services.js';

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

/** Registers the workspace routes (no-op without an infra repo). */
export function workspaceRoutes(app: FastifyInstance, services: HubServices): void {
  const { gitops } = services;
  if (gitops === undefined) return;
  const { workspaces: ws, lifecycle } = gitops;
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
  app.post<{ Body: unknown }>('/api/v1/workspaces', { preHandler: anyone }, async (req, reply) => {
    if (!validate(req.body)) return reply.code(400).send({ code: 'BAD_REQUEST', message: 'invalid workspace request', errors: describeAjvErrors(validate.errors) });
    const body = req.body;
    if (!canAccessTenant(req.principal, body.tenant)) return reply.code(403).send({ code: 'AUTH_FORBIDDEN', message: `no access to tenant ${body.tenant}` });
    const r = await ws.create(body, actorOf(req.principal));
    if (!r.ok) return reply.code(409).send({ code: 'PLACEMENT_NONE', message: r.refusal.explanation, workspace: r.refusal.workspace, reasons: r.refusal.reasons });
    const p = r.placement;
    return reply.code(201).send({ name: p.workspace, tenant: p.tenant, node: p.node, gpus: { model: p.gpuModel ?? null, uuids: p.gpuUuids }, revision: r.revision, explanation: p.explanation, status: await ws.lifecycleView(p.workspace) });
  });

  app.get<{ Querystring: { tenant?: string } }>('/api/v1/workspaces', { preHandler: anyone }, async (req, reply) => {
    const p = req.principal;
    const tenant = req.query.tenant ?? (p?.role === 'tenant' ? p.tenant : undefined);
    if (tenant !== undefined && !canAccessTenant(p, tenant)) return reply.code(403).send({ code: 'AUTH_FORBIDDEN', message: `no access to tenant ${tenant}` });
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

  app.get<{ Params: { name: string } }>('/api/v1/workspaces/:name', { preHandler: anyone }, async (req) => {
    const row = await lifecycle.get(req.params.name);
    const repo = await ws.repo();
    await ws.refreshLifecycle(repo);
    const located = repo.workspaces.get(req.params.name);
    const tenant = located?.doc.spec.tenant ?? row?.tenant;
    if (tenant === undefined || !canAccessTenant(req.principal, tenant)) throw new FoundryError('NOT_FOUND', `no workspace ${req.params.name}`, { resource: req.params.name });
    const template = located === undefined ? undefined : repo.templates.get(located.doc.spec.template)?.doc;
    return { ...workspaceView(located?.doc, await lifecycle.get(req.params.name), located?.source.file, template), desktop: located !== undefined && hasDesktop(repo, located.doc), events: await lifecycle.events(req.params.name) };
  });

  for (const [verb, state] of [['stop', 'stopped'], ['start', 'running']] as const) {
    app.post<{ Params: { name: string } }>(`/api/v1/workspaces/:name/${verb}`, { preHandler: anyone }, async (req) => {
      await visible(req);
      const changed = await ws.setState(req.params.name, state, actorOf(req.principal));
      return { name: req.params.name, state, changed };
    });
  }

  app.delete<{ Params: { name: string } }>('/api/v1/workspaces/:name', { preHandler: anyone }, async (req) => {
    const { doc } = await visible(req);
    const keys = services.volumeKeys;
    await keys?.refresh();
    const had = (await keys?.countOf(req.params.name)) ?? 0;
    await ws.remove(req.params.name, actorOf(req.principal));
    // reclaimPolicy Delete: its volume keys are destroyed now (here or by the reaper the commit woke), before any agent prunes the data.
    await keys?.reap(actorOf(req.principal));
    // Named only for a workspace that had volume keys: true when they are gone (reclaimPolicy Delete), false when kept (Retain).
    const keysDestroyed = had > 0 ? { keysDestroyed: (await keys?.countOf(req.params.name)) === 0 } : {};
    // its tenant secrets go with it (a workspace made again later under the name starts without them)
    await services.secrets?.store.removeAll(req.params.name, doc.spec.tenant, actorOf(req.principal));
    return { name: req.params.name, deleted: true, ...keysDestroyed };
  });

  for (const [verb, drain] of [['drain', true], ['undrain', false]] as const) {
    app.post<{ Params: { name: string } }>(`/api/v1/nodes/:name/${verb}`, { preHandler: admin }, async (req) => ({ node: req.params.name, drain, changed: await ws.setDrain(req.params.name, drain, actorOf(req.principal)) }));
  }
}

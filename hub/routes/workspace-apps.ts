/**
 * GET /api/v1/workspaces/:name/apps: the apps of a workspace as its users see them (dashboard, CLI): the
 * stable URL, protocol, whether it is an API (with a curl example whose key is a placeholder, never a real
 * key), and whether it can be reached now (the ingress's route table). Admins and the workspace's tenant
 * only; anyone else gets 404.
 */
import type { FastifyInstance } from 'fastify';
import { appOrigin } from '../../common/ingress/app-host.js';
import type { AppsUrl } from '../../common/ingress/apps-url.js';
import { canAccessTenant, requirePrincipal } from '../auth/principal.js';
import type { AppEntry, WorkspaceApps } from '../ingress/app-index.js';
import type { HubServices } from '../services.js';
import { appRoutes } from '../ingress/route-table.js';
import type { StatusMessage } from '../../common/protocol/codec.js';

/** The environment variable the curl examples read the apps key from. */
export const APPS_KEY_VARIABLE = 'FOUNDRY_APPS_KEY';

/** One app as the API returns it. */
export interface AppView {
  name: string;
  url: string;
  protocol: 'http' | 'tcp';
  api: boolean;
  container: string;
  containerPort: number;
  state: 'routable' | 'unroutable';
  reason: string;
  example: string | null;
}

/** Whether one app can be reached now, and why not: the ingress's route table first, then the workspace's state and lifecycle. */
export function appState(ws: WorkspaceApps, routed: boolean, hasIngress: boolean, phase: string | undefined): { state: AppView['state']; reason: string } {
  if (routed) return { state: 'routable', reason: 'routed by the ingress' };
  if (ws.state === 'stopped') return { state: 'unroutable', reason: 'the workspace is stopped' };
  if (phase !== 'Running') return { state: 'unroutable', reason: `the workspace is ${phase === undefined ? 'not running yet' : phase.toLowerCase()}` };
  if (!hasIngress) return { state: 'unroutable', reason: 'the infra repo declares no ingress Service' };
  return { state: 'unroutable', reason: 'its node has not reported the app\'s port yet' };
}

/** The view of one app. */
export function appView(ws: WorkspaceApps, a: AppEntry, apps: AppsUrl, state: { state: AppView['state']; reason: string }): AppView {
  const url = `${appOrigin(a.name, ws.workspace, apps)}/`;
  return {
    name: a.name, url, protocol: a.protocol, api: a.api, container: a.container, containerPort: a.containerPort, ...state,
    example: a.api ? `curl -H "Authorization: Bearer $${APPS_KEY_VARIABLE}" ${url}` : null,
  };
}

/** Registers the route over the hub's app index (shared with the ingress, rebuilt per revision). */
export function workspaceAppsRoutes(app: FastifyInstance, services: HubServices, opts: { apps: AppsUrl }): void {
  const { gitops, appIndex } = services;
  const fleet = services.store.fleet;
  app.get<{ Params: { name: string } }>('/api/v1/workspaces/:name/apps', { preHandler: requirePrincipal(app) }, async (req, reply) => {
    const ws = gitops === undefined ? undefined : await appIndex.workspace(req.params.name);
    // Another tenant's workspace gets the same answer as a missing one.
    if (gitops === undefined || ws === undefined || !canAccessTenant(req.principal, ws.tenant)) return reply.code(404).send({ code: 'NOT_FOUND', message: `no workspace ${req.params.name}` });
    // The route table as the ingress gets it: Git plus what the agents last reported.
    const repo = await gitops.workspaces.repo({ cached: true });
    // the status of the workspace's node only: appRoutes reads no other for this workspace's routes
    const node = repo.workspaces.get(ws.workspace)?.doc.spec.node;
    const status = node === undefined ? undefined : ((await fleet.statusOf(node)) as StatusMessage['body'] | undefined);
    const statusOf = (n: string): StatusMessage['body'] | undefined => (n === node ? status : undefined);
    const routed = new Set(appRoutes(repo, statusOf, opts.apps.domain).filter((r) => r.workspace === ws.workspace).map((r) => r.app));
    const hasIngress = [...repo.services.values()].some(({ doc }) => doc.spec.ingress !== undefined);
    const phase = (await gitops.lifecycle.get(ws.workspace))?.phase;
    const apps = [...ws.apps.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map((a) => appView(ws, a, opts.apps, appState(ws, routed.has(a.name), hasIngress, phase)));
    return { workspace: ws.workspace, tenant: ws.tenant, apps };
  });
}

/**
 * GET /api/v1/workspaces/:name/apps: the apps of a workspace as its users see them (dashboard, CLI): the
 * stable URL, protocol, whether it is an API (with a curl example whose key is a placeholder, never a real
 * key), and whether it can be reached now. Admins and the workspace's tenant only; anyone else gets 404.
 */
import type { FastifyInstance } from 'fastify';
import { appOrigin } from '../../common/ingress/app-host.js';
import type { AppsUrl } from '../../common/ingress/apps-url.js';
import { canAccessTenant, requirePrincipal } from '../auth/principal.js';
import type { AppEntry, AppIndex, WorkspaceApps } from '../ingress/app-index.js';

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

/** Whether a workspace's apps can be reached now, and why not: from its desired state and lifecycle phase. */
export function appState(ws: WorkspaceApps, phase: string | undefined): { state: AppView['state']; reason: string } {
  if (ws.state === 'stopped') return { state: 'unroutable', reason: 'the workspace is stopped' };
  if (phase !== 'Running') return { state: 'unroutable', reason: `the workspace is ${phase === undefined ? 'not placed yet' : phase.toLowerCase()}` };
  return { state: 'routable', reason: 'running' };
}

/** The view of one app. */
export function appView(ws: WorkspaceApps, a: AppEntry, apps: AppsUrl, state: { state: AppView['state']; reason: string }): AppView {
  const url = `${appOrigin(a.name, ws.workspace, apps)}/`;
  return {
    name: a.name, url, protocol: a.protocol, api: a.api, container: a.container, containerPort: a.containerPort, ...state,
    example: a.api ? `curl -H "Authorization: Bearer $${APPS_KEY_VARIABLE}" ${url}` : null,
  };
}

/** Registers the route; `index` is the ingress's app index (shared, rebuilt per revision). */
export function workspaceAppsRoutes(app: FastifyInstance, opts: { apps: AppsUrl; index: AppIndex }): void {
  app.get<{ Params: { name: string } }>('/api/v1/workspaces/:name/apps', { preHandler: requirePrincipal(app) }, async (req, reply) => {
    const ws = app.hasDecorator('gitops') ? await opts.index.workspace(req.params.name) : undefined;
    // Another tenant's workspace gets the same answer as a missing one.
    if (ws === undefined || !canAccessTenant(req.principal, ws.tenant)) return reply.code(404).send({ code: 'NOT_FOUND', message: `no workspace ${req.params.name}` });
    const state = appState(ws, app.gitops.lifecycle.get(ws.workspace)?.phase);
    const apps = [...ws.apps.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map((a) => appView(ws, a, opts.apps, state));
    return { workspace: ws.workspace, tenant: ws.tenant, apps };
  });
}

/**
 * Desktops of VM workspaces: POST /api/v1/workspaces/:name/desktop/ticket issues a one-time console ticket
 * (dashboard sessions only: the ticket is bound to the session; the workspace's tenant users and admins
 * only), and, when the hub is configured for Apache Guacamole, POST .../desktop/guacamole returns a
 * sign-in link (see hub/desktop/guacamole-*.ts). The console itself is hub/desktop/console-broker.ts.
 */
import type { FastifyInstance } from 'fastify';
import { FoundryError } from '../../common/errors.js';
import type { InfraRepo, Workspace } from '../../common/infra/model.js';
import { actorOf, canAccessTenant, requirePrincipal, type Principal } from '../auth/principal.js';
import { hashSecret } from '../auth/secrets.js';
import type { HubServices } from '../services.js';
import { DESKTOP_WS_PATH, TICKET_PROTOCOL_PREFIX } from '../desktop/console-broker.js';

/** The workspace a principal may open the desktop of, with its node; throws a FoundryError otherwise. */
export function desktopTarget(repo: InfraRepo, name: string, p: Principal | undefined, connected: readonly string[]): { doc: Workspace; node: string } {
  const doc = repo.workspaces.get(name)?.doc;
  // Another tenant's workspace is hidden (404), as everywhere else.
  if (doc === undefined || !canAccessTenant(p, doc.spec.tenant)) throw new FoundryError('NOT_FOUND', `no workspace ${name}`, { resource: name });
  const vm = repo.templates.get(doc.spec.template)?.doc.spec.vm;
  if (vm === undefined || vm.driver !== 'libvirt') throw new FoundryError('CONSOLE_UNAVAILABLE', `workspace ${name} has no libvirt vm: its template ${doc.spec.template} declares none`, { resource: name });
  if (doc.spec.state === 'stopped') throw new FoundryError('CONSOLE_UNAVAILABLE', `workspace ${name} is stopped: start it to open its desktop`, { resource: name });
  const node = doc.spec.node;
  if (node === undefined) throw new FoundryError('CONSOLE_UNAVAILABLE', `workspace ${name} is not placed on a node yet`, { resource: name });
  if (!connected.includes(node)) throw new FoundryError('CONSOLE_TUNNEL', `node ${node} of workspace ${name} is not connected to the hub`, { resource: name });
  return { doc, node };
}

/** Registers the desktop routes (no-op without an infra repo); tickets are the console broker's. */
export function desktopRoutes(app: FastifyInstance, services: HubServices): void {
  const { gitops, gateway, consoles, guacamole: guac } = services;
  if (gitops === undefined) return;
  const anyone = requirePrincipal(app);
  app.post<{ Params: { name: string } }>('/api/v1/workspaces/:name/desktop/ticket', { preHandler: anyone }, async (req, reply) => {
    const session = req.dashboardSession;
    if (req.principal?.via !== 'session' || session === undefined) return reply.code(403).send({ code: 'AUTH_FORBIDDEN', message: 'a desktop opens in a dashboard session (the ticket is bound to it)' });
    const { doc, node } = desktopTarget(await gitops.workspaces.repo(), req.params.name, req.principal, gateway.connectedNodes());
    const t = consoles.tickets.issue({ workspace: doc.metadata.name, tenant: doc.spec.tenant, node, sessionHash: hashSecret(session.id), actor: actorOf(req.principal) });
    return { ...t, path: DESKTOP_WS_PATH, protocolPrefix: TICKET_PROTOCOL_PREFIX, node, guacamole: guac !== undefined };
  });
  if (guac === undefined) return;
  app.post<{ Params: { name: string } }>('/api/v1/workspaces/:name/desktop/guacamole', { preHandler: anyone }, async (req) => {
    const { doc, node } = desktopTarget(await gitops.workspaces.repo(), req.params.name, req.principal, gateway.connectedNodes());
    return guac.signIn({ workspace: doc.metadata.name, tenant: doc.spec.tenant, node, actor: actorOf(req.principal), username: req.principal?.subject ?? 'unknown' });
  });
}

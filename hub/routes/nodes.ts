/**
 * Admin API for nodes: list them (with the conditions of their last status), revoke one (its connection is dropped at once). Any admin credential
 * (admin token, admin API token, admin dashboard session with its CSRF header); tenants get 403.
 */
import type { FastifyInstance } from 'fastify';
import type { HubStore } from '../store/hub-store.js';
import type { AgentGateway } from '../gateway/agent-gateway.js';
import { actorOf, requirePrincipal } from '../auth/principal.js';
import { enrollments } from '../enroll/join-tokens.js';

/** Registers /api/v1/nodes routes. */
export function nodeRoutes(app: FastifyInstance, store: HubStore, gateway: AgentGateway): void {
  const preHandler = requirePrincipal(app, { role: 'admin' });
  app.get('/api/v1/nodes', { preHandler }, async () => {
    const connected = new Set(gateway.connectedNodes());
    const enrolled = await enrollments(store.joinTokens);
    // state: pending (never connected), active, revoked; enrollment: how it joined (null when added by hand).
    const state = (n: { revoked: boolean; status: string }): string => (n.revoked ? 'revoked' : n.status === 'never-seen' ? 'pending' : 'active');
    // conditions: the node's own (Ready, Stalled, runtime ones such as PodmanCapabilities) from its last status.
    const conditionsOf = async (name: string): Promise<unknown[]> => ((await store.nodeStatus(name))?.payload as { conditions?: unknown[] } | undefined)?.conditions ?? [];
    const nodes = await store.nodes();
    return { nodes: await Promise.all(nodes.map(async (n) => ({ ...n, state: state(n), connected: connected.has(n.name), enrollment: enrolled.get(n.name) ?? null, conditions: await conditionsOf(n.name) }))) };
  });
  app.post<{ Params: { name: string } }>('/api/v1/nodes/:name/revoke', { preHandler }, async (req, reply) => {
    if (!(await store.revokeNode(req.params.name, actorOf(req.principal)))) return reply.code(404).send({ code: 'NOT_FOUND', message: `no node named ${req.params.name}` });
    gateway.disconnect(req.params.name);
    return { revoked: req.params.name };
  });
}

/** Admin API for nodes: list them, revoke one (its connection is dropped at once). Bearer admin token. */
import type { FastifyInstance, FastifyRequest, FastifyReply } from 'fastify';
import type { HubStore } from '../store/hub-store.js';
import type { AgentGateway } from '../gateway/agent-gateway.js';
import { tokenFromAuthorization } from '../auth/secrets.js';
import { enrollments } from '../enroll/join-tokens.js';

/** A preHandler that requires an admin token; returns the admin's label in request context. */
export function requireAdmin(store: HubStore) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const token = tokenFromAuthorization(req.headers.authorization);
    const admin = token === undefined ? undefined : store.authenticateAdmin(token);
    if (admin === undefined) {
      await reply.code(401).send({ code: 'AUTH_REQUIRED', message: 'an admin token is required' });
      return;
    }
    (req as FastifyRequest & { admin?: string }).admin = admin;
  };
}

/** Registers /api/v1/nodes routes. */
export function nodeRoutes(app: FastifyInstance, store: HubStore, gateway: AgentGateway): void {
  const preHandler = requireAdmin(store);
  app.get('/api/v1/nodes', { preHandler }, async () => {
    const connected = new Set(gateway.connectedNodes());
    const enrolled = enrollments(store.db);
    // state: pending (never connected), active, revoked; enrollment: how it joined (null when added by hand).
    const state = (n: { revoked: boolean; status: string }): string => (n.revoked ? 'revoked' : n.status === 'never-seen' ? 'pending' : 'active');
    return { nodes: store.nodes().map((n) => ({ ...n, state: state(n), connected: connected.has(n.name), enrollment: enrolled.get(n.name) ?? null })) };
  });
  app.post<{ Params: { name: string } }>('/api/v1/nodes/:name/revoke', { preHandler }, async (req, reply) => {
    const actor = `admin:${(req as FastifyRequest & { admin?: string }).admin ?? '?'}`;
    if (!store.revokeNode(req.params.name, actor)) return reply.code(404).send({ code: 'NOT_FOUND', message: `no node named ${req.params.name}` });
    gateway.disconnect(req.params.name);
    return { revoked: req.params.name };
  });
}

/**
 * Admin API: GET /api/v1/usage/refused lists usage records the admission gate refused (never billed),
 * newest first, with the reason and the field at fault; ?node=, ?reason= and ?limit= narrow it.
 */
import type { FastifyInstance } from 'fastify';
import { requirePrincipal } from '../auth/principal.js';
import { listRefusals } from '../usage/refusals.js';
import { REFUSAL_REASONS } from '../usage/admission.js';
import type { HubServices } from '../services.js';

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Registers the refused-usage route (admins only). */
export function usageRefusalRoutes(app: FastifyInstance, services: HubServices): void {
  const admin = requirePrincipal(app, { role: 'admin' });
  app.get<{ Querystring: { node?: string; reason?: string; limit?: string } }>('/api/v1/usage/refused', { preHandler: admin }, async (req, reply) => {
    const { node, reason, limit } = req.query;
    if (node !== undefined && !(NAME.test(node) && node.length <= 63)) return reply.code(400).send({ code: 'BAD_REQUEST', message: 'invalid node: expected a resource name' });
    if (reason !== undefined && !(REFUSAL_REASONS as readonly string[]).includes(reason)) return reply.code(400).send({ code: 'BAD_REQUEST', message: `invalid reason: expected one of ${REFUSAL_REASONS.join(', ')}` });
    const n = limit === undefined ? undefined : Number(limit);
    if (n !== undefined && !(Number.isInteger(n) && n >= 1 && n <= 1000)) return reply.code(400).send({ code: 'BAD_REQUEST', message: 'invalid limit: expected an integer from 1 to 1000' });
    return listRefusals(services.store.usage, { node, reason, limit: n });
  });
}

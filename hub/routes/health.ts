/** Health endpoints: /healthz (the process answers) and /readyz (the store answers and we are not stopping). */
import type { FastifyInstance } from 'fastify';
import type { HubStore } from '../store/hub-store.js';

/** Registers /healthz and /readyz. */
export function healthRoutes(app: FastifyInstance, store: HubStore, isStopping: () => boolean): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (isStopping()) return reply.code(503).send({ status: 'stopping' });
    try {
      await store.fleet.ping();
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'store unavailable' });
    }
  });
}

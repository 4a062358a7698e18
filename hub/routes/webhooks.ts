/**
 * External-repo mode: GitLab's push webhook tells the hub about new revisions. The shared secret in
 * X-Gitlab-Token is compared in constant time; a push then triggers sync-now on the agents.
 */
import type { FastifyInstance } from 'fastify';
import { secretsEqual } from '../auth/secrets.js';

/** Path of the GitLab push webhook. */
export const GITLAB_WEBHOOK_PATH = '/api/v1/webhooks/gitlab';

const pushEventSchema = {
  type: 'object',
  required: ['object_kind'],
  properties: {
    object_kind: { type: 'string', maxLength: 64 },
    ref: { type: 'string', maxLength: 1024 },
    after: { type: 'string', pattern: '^[0-9a-f]{7,64}$' },
  },
} as const;

interface PushEvent {
  object_kind: string;
  ref?: string;
  after?: string;
}

/** Registers the GitLab webhook; `onRevision` is called for each push with a new revision. */
export function webhookRoutes(app: FastifyInstance, secret: string, onRevision: (revision: string, ref: string | undefined) => number): void {
  app.post<{ Body: PushEvent }>(GITLAB_WEBHOOK_PATH, { schema: { body: pushEventSchema } }, async (req, reply) => {
    const token = req.headers['x-gitlab-token'];
    if (typeof token !== 'string' || !secretsEqual(token, secret)) {
      req.log.warn('gitlab webhook refused: missing or wrong X-Gitlab-Token');
      return reply.code(401).send({ code: 'AUTH_REQUIRED', message: 'missing or wrong webhook token' });
    }
    const ev = req.body;
    if (ev.object_kind !== 'push' || ev.after === undefined || /^0+$/.test(ev.after)) return reply.code(202).send({ accepted: true, notified: 0 });
    const notified = onRevision(ev.after, ev.ref);
    return reply.code(202).send({ accepted: true, notified });
  });
}

/**
 * Tenant secrets of a workspace: PUT /api/v1/workspaces/:name/secrets/:secret (body {value}),
 * GET /api/v1/workspaces/:name/secrets (names, versions and times only), DELETE .../secrets/:secret.
 * Write-only: no answer, log line or audit entry carries a value. A workspace of another tenant is a 404,
 * like one that does not exist. Every change is pushed to the node that runs the workspace.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FoundryError, isFoundryError } from '../../common/errors.js';
import { describeAjvErrors, validatorFor } from '../../common/schema.js';
import type { WorkspaceSecretPut } from '../../common/generated/http/workspace-secret-put.js';
import { actorOf, canAccessTenant, requirePrincipal } from '../auth/principal.js';
import { hubErrorHandler } from '../error-handler.js';
import type { WorkspaceService } from '../workspaces/workspace-service.js';
import type { WorkspaceSecrets } from '../secrets/workspace-secrets.js';
import type { SecretDelivery } from '../secrets/secret-delivery.js';

/** What the secret routes need. */
export interface SecretRouteDeps {
  workspaces: WorkspaceService;
  secrets: WorkspaceSecrets;
  delivery: SecretDelivery;
}

type Req = FastifyRequest<{ Params: { name: string; secret?: string } }>;

/** Registers the workspace secret routes in their own scope. */
export async function workspaceSecretRoutes(parent: FastifyInstance, deps: SecretRouteDeps): Promise<void> {
  await parent.register(async (app) => {
    // A body that is not JSON must not come back, or reach the log, quoted: JSON.parse's message cites the input.
    // The catalog's errors are answered as everywhere else (hub/error-handler.ts); the rest get this route's wording.
    app.setErrorHandler(async (err: Error & { statusCode?: number; code?: string }, req, reply) => {
      if (isFoundryError(err)) return hubErrorHandler(err, req, reply);
      const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      req.log.warn({ code: err.code, status }, 'workspace secret request failed');
      return reply.code(status).send({ code: status === 500 ? 'INTERNAL' : 'BAD_REQUEST', message: status === 413 ? 'the body is too large' : status === 500 ? 'internal error' : 'invalid request body: expected json {"value": "..."}' });
    });
    routes(app, deps);
  });
}

function routes(app: FastifyInstance, deps: SecretRouteDeps): void {
  const anyone = requirePrincipal(app);
  const validate = validatorFor<WorkspaceSecretPut>('http/workspace-secret-put.schema.json');

  // The workspace's tenant at the branch tip; 404 for a workspace the caller may not see.
  const tenantOf = async (req: Req): Promise<string> => {
    const doc = (await deps.workspaces.repo()).workspaces.get(req.params.name)?.doc;
    if (doc === undefined || !canAccessTenant(req.principal, doc.spec.tenant)) throw new FoundryError('NOT_FOUND', `no workspace ${req.params.name}`, { resource: req.params.name });
    return doc.spec.tenant;
  };
  // Delivery runs after the answer: a node that is offline gets the secret when it connects.
  const deliver = (): void => void deps.delivery.reconcile(true).catch(() => undefined);

  app.get<{ Params: { name: string } }>('/api/v1/workspaces/:name/secrets', { preHandler: anyone }, async (req) => ({
    workspace: req.params.name,
    secrets: await deps.secrets.list(req.params.name, await tenantOf(req)),
  }));

  app.put<{ Params: { name: string; secret: string }; Body: unknown }>('/api/v1/workspaces/:name/secrets/:secret', { preHandler: anyone, bodyLimit: 256 * 1024 }, async (req, reply) => {
    const tenant = await tenantOf(req);
    // Schema errors name the field, never echo the value.
    if (!validate(req.body)) return reply.code(400).send({ code: 'BAD_REQUEST', message: 'invalid secret: expected {"value": "..."} (1 to 65536 characters)', errors: describeAjvErrors(validate.errors) });
    const r = await deps.secrets.set(req.params.name, tenant, req.params.secret, Buffer.from(req.body.value, 'utf8'), actorOf(req.principal));
    deliver();
    return reply.code(r.created ? 201 : 200).send({ workspace: req.params.name, name: req.params.secret, version: r.version });
  });

  app.delete<{ Params: { name: string; secret: string } }>('/api/v1/workspaces/:name/secrets/:secret', { preHandler: anyone }, async (req) => {
    const tenant = await tenantOf(req);
    if (!(await deps.secrets.remove(req.params.name, tenant, req.params.secret, actorOf(req.principal)))) throw new FoundryError('NOT_FOUND', `workspace ${req.params.name} has no secret ${req.params.secret}`, { resource: `${req.params.name}/${req.params.secret}` });
    deliver();
    return { workspace: req.params.name, name: req.params.secret, deleted: true };
  });
}

/**
 * Who is calling the hub's API: one Principal per request, from whichever authenticator recognises the
 * request (admin tokens here; dashboard sessions and tenant API tokens register their own). Routes ask
 * for a principal and, for tenant data, check the tenant; a tenant principal only ever sees its own.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HubStore } from '../store/hub-store.js';
import { tokenFromAuthorization } from './secrets.js';

/** An authenticated caller. */
export interface Principal {
  role: 'admin' | 'tenant';
  /** Who, for the audit log: a user name, a token label. Never a secret. */
  subject: string;
  /** The tenant a tenant principal belongs to. */
  tenant?: string;
  /** A tenant principal's role in its tenant (tenant admins manage its users and API tokens); member when absent. */
  tenantRole?: 'admin' | 'member';
  via: 'admin-token' | 'api-token' | 'session';
}

/** Recognises a request or returns undefined (never throws for a bad credential; the route answers 401). */
export type Authenticator = (req: FastifyRequest) => Principal | undefined | Promise<Principal | undefined>;

declare module 'fastify' {
  interface FastifyInstance {
    authenticators: Authenticator[];
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Installs the authenticator list on the app, starting with admin tokens (Authorization: Bearer). */
export function installAuth(app: FastifyInstance, store: HubStore): void {
  app.decorate('authenticators', [
    async (req: FastifyRequest): Promise<Principal | undefined> => {
      const token = tokenFromAuthorization(req.headers.authorization);
      const label = token === undefined ? undefined : await store.authenticateAdmin(token);
      return label === undefined ? undefined : { role: 'admin', subject: label, via: 'admin-token' };
    },
  ]);
}

/** The principal of a request, trying each authenticator in order. */
export async function principalOf(app: FastifyInstance, req: FastifyRequest): Promise<Principal | undefined> {
  for (const authenticate of app.authenticators) {
    const p = await authenticate(req);
    if (p !== undefined) return p;
  }
  return undefined;
}

/** A preHandler: 401 without a principal, 403 when `role: 'admin'` is required and the caller is a tenant. Sets req.principal. */
export function requirePrincipal(app: FastifyInstance, options: { role?: 'admin' } = {}) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const p = await principalOf(app, req);
    if (p === undefined) {
      await reply.code(401).send({ code: 'AUTH_REQUIRED', message: 'a credential is required (admin token, API token or session)' });
      return;
    }
    if (options.role === 'admin' && p.role !== 'admin') {
      await reply.code(403).send({ code: 'AUTH_FORBIDDEN', message: 'this action needs an admin' });
      return;
    }
    req.principal = p;
  };
}

/** Who did it, in audit entries and commit messages: role and subject (`admin:ada`, `tenant:token:acme-ci`), the same for every route. */
export function actorOf(p: Principal | undefined): string {
  return p === undefined ? 'anonymous' : `${p.role}:${p.subject}`;
}

/** True when `p` may administer `tenant` (its users and API tokens): platform admins and that tenant's admins. */
export function canAdministerTenant(p: Principal | undefined, tenant: string): boolean {
  return p !== undefined && (p.role === 'admin' || (p.tenant === tenant && p.tenantRole === 'admin'));
}

/** True when `p` may see or act on `tenant`'s data: admins always, tenants only their own. */
export function canAccessTenant(p: Principal | undefined, tenant: string): boolean {
  return p !== undefined && (p.role === 'admin' || p.tenant === tenant);
}

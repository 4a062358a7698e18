/**
 * Billing API: a tenant's invoice for a month (JSON, or CSV with ?format=csv / Accept: text/csv), the
 * running cost of a month per workspace with the quota, and closing a month (admin). Tenants only see
 * their own (403 for another tenant's); an invoice's `alerts` (unpriced lines, records excluded from the
 * amount) are for admins and are left out of a tenant's answer.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FoundryError } from '../../common/errors.js';
import type { InfraRepo } from '../../common/infra/model.js';
import { actorOf, canAccessTenant, requirePrincipal } from '../auth/principal.js';
import type { HubServices } from '../services.js';
const MONTH = /^[0-9]{4}-(0[1-9]|1[0-2])$/;
const TENANT = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Registers the billing routes over the hub's invoicer (the month-to-date metric reads the same invoices). */
export function billingRoutes(app: FastifyInstance, services: HubServices): void {
  const { invoicer, gitops, store } = services;
  const billing = store.billing;
  const anyone = requirePrincipal(app);
  const admin = requirePrincipal(app, { role: 'admin' });
  const repo = async (): Promise<InfraRepo> => {
    if (gitops === undefined) throw new FoundryError('GIT_FETCH', 'billing needs the infra repo (price lists): this hub has none wired', { retry: 'wait' });
    return gitops.workspaces.repo();
  };
  const forbidden = (req: FastifyRequest, reply: FastifyReply, tenant: string): boolean => {
    if (canAccessTenant(req.principal, tenant)) return false;
    void reply.code(403).send({ code: 'AUTH_FORBIDDEN', message: `no access to tenant ${tenant}` });
    return true;
  };
  // Tenant names are resource names: anything else (../../etc, /etc/passwd) is refused, not looked up.
  const badTenant = (reply: FastifyReply, tenant: string): boolean => {
    if (TENANT.test(tenant) && tenant.length <= 63) return false;
    void reply.code(400).send({ code: 'BAD_REQUEST', message: 'invalid tenant name: expected a resource name (lowercase letters, digits and -)' });
    return true;
  };
  const badMonth = (reply: FastifyReply, month: string): boolean => {
    if (MONTH.test(month)) return false;
    void reply.code(400).send({ code: 'BAD_REQUEST', message: `invalid month "${month}": expected YYYY-MM` });
    return true;
  };

  app.get<{ Params: { tenant: string; month: string }; Querystring: { format?: string } }>('/api/v1/tenants/:tenant/invoices/:month', { preHandler: anyone }, async (req, reply) => {
    const { tenant, month } = req.params;
    if (forbidden(req, reply, tenant) || badTenant(reply, tenant) || badMonth(reply, month)) return reply;
    const r = await invoicer.invoice(await repo(), tenant, month);
    const csv = req.query.format === 'csv' || (req.query.format === undefined && (req.headers.accept ?? '').includes('text/csv'));
    if (csv) return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="invoice-${tenant}-${month}.csv"`).send(r.csv);
    const { alerts, ...doc } = r.invoice;
    return { ...doc, ...(req.principal?.role === 'admin' && alerts !== undefined ? { alerts } : {}), frozen: r.frozen, unpriced: r.unpriced, ...(r.emptyReason === undefined ? {} : { emptyReason: r.emptyReason }) };
  });

  app.get<{ Params: { tenant: string }; Querystring: { month?: string } }>('/api/v1/tenants/:tenant/usage', { preHandler: anyone }, async (req, reply) => {
    const { tenant } = req.params;
    if (forbidden(req, reply, tenant) || badTenant(reply, tenant) || (req.query.month !== undefined && badMonth(reply, req.query.month))) return reply;
    return invoicer.usage(await repo(), tenant, req.query.month);
  });

  app.get('/api/v1/billing/months', { preHandler: admin }, async () => ({ closed: await billing.closedList() }));

  app.post<{ Params: { month: string } }>('/api/v1/billing/months/:month/close', { preHandler: admin }, async (req, reply) => {
    if (badMonth(reply, req.params.month)) return reply;
    const actor = actorOf(req.principal);
    const r = await invoicer.close(await repo(), req.params.month, actor);
    await store.audit(actor, 'billing.month.close', req.params.month, { invoices: r.invoices.length });
    return r;
  });
}

/**
 * Why an invoice has no line, in words an admin or tenant can act on: the tenant is not declared, no
 * price list applies, nothing of the tenant ran in the month (only running workspaces are billed), or
 * what ran has no price (a missing price means that resource is free). Pure.
 */
import type { InfraRepo } from '../../common/infra/model.js';
import { monthEnd, monthStart } from '../billing/usage.js';
import type { Converted } from './usage-intervals.js';

/** The reason an invoice of `tenant` for `month` is empty, from the repo and the tenant's converted usage. */
export function emptyInvoiceReason(repo: InfraRepo, tenant: string, month: string, usage: Converted): string {
  if (!repo.tenants.has(tenant)) return `tenant ${tenant} is not declared in the infra repo`;
  const named = repo.tenants.get(tenant)?.doc.spec.priceList;
  const listName = named ?? 'default';
  if (!repo.priceLists.has(listName)) {
    return `no price list applies: ${named === undefined ? `tenant ${tenant} names none and there is no price list "default"` : `tenant ${tenant} names price list ${named}, which does not exist`}`;
  }
  // Both kinds of interval are in epoch ms.
  const [startMs, endMs] = [monthStart(month) * 1000, monthEnd(month) * 1000];
  const ran = [...usage.intervals, ...usage.resources].some((i) => i.tenant === tenant && i.from < endMs && i.to > startMs);
  if (!ran) {
    return `no running workspace of ${tenant} was measured in ${month}: only running workspaces are billed, for the time their node reported`;
  }
  return `workspaces of ${tenant} ran in ${month}, but price list ${listName} prices nothing they held (a missing price means that resource is free)`;
}

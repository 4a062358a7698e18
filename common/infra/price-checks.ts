/**
 * Price-list checks that need the whole repo, run by crossCheck (so by `foundry validate` and the hub's
 * pre-receive hook): a price list must not be able to break an invoice later.
 *
 * Every PriceList: periods start at distinct whole-second instants; prices are decimal strings of
 * non-negative whole micro-units (at most 6 decimals, below 10^9); increment and minimumCharge are whole
 * seconds (increment at least 1s). Every price list a tenant uses (its spec.priceList, or "default" for a
 * tenant without one): each GPU model a Node declares has a price in every period. Lists no tenant uses
 * (a draft for next year) are only checked for form.
 */
import { parseDuration } from '../units.js';
import { issueAt, positionOf, where } from './issue-at.js';
import type { InfraIssue, InfraRepo, Located, PriceList } from './model.js';

/** The price pattern of schemas/common.schema.json: whole units below 10^9 and at most 6 decimals, i.e. integer micro-units. */
const PRICE = /^[0-9]{1,9}(\.[0-9]{1,6})?$/;

/** Runs the price-list checks; appends to `issues`. */
export function checkPriceLists(repo: InfraRepo, issues: InfraIssue[]): void {
  const users = tenantsByPriceList(repo);
  const models = declaredModels(repo);
  for (const [name, loc] of repo.priceLists) {
    checkForm(loc, issues);
    const tenants = users.get(name);
    if (tenants !== undefined) checkCoverage(loc, tenants, models, issues);
  }
}

function tenantsByPriceList(repo: InfraRepo): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [tenant, loc] of repo.tenants) {
    const list = loc.doc.spec.priceList ?? 'default';
    out.set(list, [...(out.get(list) ?? []), tenant]);
  }
  return out;
}

/** GPU model → where a Node first declares it. */
function declaredModels(repo: InfraRepo): Map<string, { node: string; at: string }> {
  const out = new Map<string, { node: string; at: string }>();
  for (const [node, loc] of repo.nodes) {
    (loc.doc.spec.gpus ?? []).forEach((g, i) => {
      if (!out.has(g.model)) out.set(g.model, { node, at: where(positionOf(loc, ['spec', 'gpus', i, 'model'])) });
    });
  }
  return out;
}

function checkForm(loc: Located<PriceList>, issues: InfraIssue[]): void {
  const spec = loc.doc.spec;
  for (const field of ['increment', 'minimumCharge'] as const) {
    const text = spec[field];
    if (text === undefined) continue;
    let ms: number;
    try {
      ms = parseDuration(text);
    } catch {
      continue; // the schema reports it
    }
    if (ms % 1000 !== 0) issues.push(issueAt('INFRA_CONFLICT', loc, ['spec', field], `${field} ${JSON.stringify(text)} is not whole seconds: expected e.g. 1s or 1m`));
    else if (field === 'increment' && ms < 1000) issues.push(issueAt('INFRA_CONFLICT', loc, ['spec', field], `increment ${JSON.stringify(text)} is below 1s: expected at least 1s`));
  }
  const starts = new Map<number, number>();
  spec.periods.forEach((p, i) => {
    const ms = Date.parse(p.effectiveFrom);
    if (!Number.isFinite(ms)) return; // the schema reports it
    if (ms % 1000 !== 0) issues.push(issueAt('INFRA_CONFLICT', loc, ['spec', 'periods', i, 'effectiveFrom'], `effectiveFrom ${p.effectiveFrom} is not at a whole second: expected e.g. 2026-01-01T00:00:00Z`));
    const first = starts.get(ms);
    if (first !== undefined) {
      issues.push(issueAt('INFRA_CONFLICT', loc, ['spec', 'periods', i, 'effectiveFrom'], `a second period starts at ${new Date(ms).toISOString()}: spec.periods[${first}] starts at the same instant (${where(positionOf(loc, ['spec', 'periods', first, 'effectiveFrom']))}); expected each period to start at its own instant`));
    } else starts.set(ms, i);
    const prices: Array<[Array<string | number>, unknown]> = Object.entries(p.gpuHour).map(([model, v]) => [['gpuHour', model], v]);
    for (const field of ['vcpuHour', 'memoryGiBHour', 'storageGiBMonth'] as const) if (p[field] !== undefined) prices.push([[field], p[field]]);
    for (const [path, v] of prices) {
      if (typeof v === 'string' && PRICE.test(v)) continue;
      issues.push(issueAt('INFRA_CONFLICT', loc, ['spec', 'periods', i, ...path], `price ${JSON.stringify(v)} is not a price: expected a quoted decimal string, at least 0, below 1000000000, with at most 6 decimals (e.g. "2.49")`));
    }
  });
}

function checkCoverage(loc: Located<PriceList>, tenants: string[], models: Map<string, { node: string; at: string }>, issues: InfraIssue[]): void {
  const users = tenants.length === 1 ? `tenant ${tenants[0]}` : `tenants ${tenants.sort().join(', ')}`;
  loc.doc.spec.periods.forEach((p, i) => {
    for (const [model, decl] of models) {
      if (Object.hasOwn(p.gpuHour, model)) continue;
      issues.push(issueAt('INFRA_REFERENCE', loc, ['spec', 'periods', i, 'gpuHour'], `no price for GPU model ${JSON.stringify(model)} (declared by node ${decl.node} at ${decl.at}) in a price list used by ${users}: expected a price for every declared GPU model in every period`));
    }
  });
}

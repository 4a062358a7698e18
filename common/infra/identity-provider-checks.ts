/**
 * Checks of IdentityProvider documents that a JSON Schema cannot say: tenant roles name a tenant and
 * platform-admin names none; a tenant's own provider maps only to its own tenant (never to a platform
 * admin); tenants named exist; a group mapped twice is reported (the first entry would always win).
 */
import { issueAt, oneOf, where, positionOf } from './issue-at.js';
import type { InfraIssue, InfraRepo } from './model.js';
import type { InvalidNames } from './parse-docs.js';

/** Runs the identity-provider checks; appends to `issues`. */
export function checkIdentityProviders(repo: InfraRepo, invalid: InvalidNames, issues: InfraIssue[]): void {
  for (const [name, loc] of repo.identityProviders) {
    const spec = loc.doc.spec;
    const owner = spec.tenant;
    if (owner !== undefined && !repo.tenants.has(owner) && !invalid.has(`Tenant/${owner}`)) {
      issues.push(issueAt('INFRA_REFERENCE', loc, ['spec', 'tenant'], `unknown tenant ${JSON.stringify(owner)}: expected ${oneOf(repo.tenants.keys())}`));
    }
    const seen = new Map<string, number>();
    spec.mappings.forEach((m, i) => {
      const at = ['spec', 'mappings', i];
      const prev = seen.get(m.group);
      if (prev !== undefined) {
        issues.push(issueAt('INFRA_CONFLICT', loc, [...at, 'group'], `group ${JSON.stringify(m.group)} is already mapped at ${where(positionOf(loc, ['spec', 'mappings', prev, 'group']))}: the first match wins, so this entry never applies`));
      } else seen.set(m.group, i);
      if (m.role === 'platform-admin') {
        if (owner !== undefined) {
          issues.push(issueAt('INFRA_CONFLICT', loc, [...at, 'role'], `identity provider ${name} belongs to tenant ${owner} and may not grant platform-admin: expected tenant-admin or tenant-member of tenant ${owner}`));
        } else if (m.tenant !== undefined) {
          issues.push(issueAt('INFRA_CONFLICT', loc, [...at, 'tenant'], 'platform-admin applies to the whole platform: expected no tenant on this mapping'));
        }
        return;
      }
      if (m.tenant === undefined) {
        issues.push(issueAt('INFRA_SCHEMA', loc, at, `role ${m.role} needs a tenant: expected tenant: <name> on this mapping`));
        return;
      }
      if (owner !== undefined && m.tenant !== owner) {
        issues.push(issueAt('INFRA_CONFLICT', loc, [...at, 'tenant'], `identity provider ${name} belongs to tenant ${owner}: expected its mappings to name tenant ${owner}, got ${m.tenant}`));
      } else if (!repo.tenants.has(m.tenant) && !invalid.has(`Tenant/${m.tenant}`)) {
        issues.push(issueAt('INFRA_REFERENCE', loc, [...at, 'tenant'], `unknown tenant ${JSON.stringify(m.tenant)}: expected ${oneOf(repo.tenants.keys())}`));
      }
    });
  }
}

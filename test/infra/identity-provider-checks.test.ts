/** IdentityProvider documents at validate and push time: each test breaks one thing and asserts the exact issues (file:line:column). */
import { describe, expect, it } from 'vitest';
import { doc, repoIssues } from './temp-repo.js';

const issuesOf = repoIssues();

const oidc = ['  oidc:', '    issuer: https://login.example.com/acme/v2.0', '    clientId: foundry', '    clientSecretFile: /etc/foundry/idp/acme.secret'];
const idp = (name: string, lines: string[]): string => doc('IdentityProvider', name, ['  displayName: ACME SSO', ...lines]);

describe('identity-provider checks', () => {
  it('accepts a platform-wide and a tenant provider with valid mappings', async () => {
    expect(await issuesOf({
      'idp/platform.yaml': idp('platform', [...oidc, '  mappings:', '    - { group: ops, role: platform-admin }', '    - { group: acme-users, tenant: acme, role: tenant-member }']),
      'idp/acme.yaml': idp('acme', ['  tenant: acme', '  mfaRequired: true', ...oidc, '  mappings:', '    - { group: admins, tenant: acme, role: tenant-admin }']),
    })).toEqual([]);
  });

  it('refuses a tenant provider that maps to another tenant or grants platform-admin', async () => {
    expect(await issuesOf({
      'tenants/globex.yaml': doc('Tenant', 'globex', ['  displayName: Globex']),
      'idp/acme.yaml': idp('acme', ['  tenant: acme', ...oidc, '  mappings:', '    - { group: a, tenant: globex, role: tenant-admin }', '    - { group: b, role: platform-admin }']),
    })).toEqual([
      'idp/acme.yaml:13:27: spec.mappings[0].tenant: identity provider acme belongs to tenant acme: expected its mappings to name tenant acme, got globex',
      'idp/acme.yaml:14:25: spec.mappings[1].role: identity provider acme belongs to tenant acme and may not grant platform-admin: expected tenant-admin or tenant-member of tenant acme',
    ]);
  });

  it('wants exactly one of oidc and saml, a tenant on tenant roles, known tenants and each group once', async () => {
    expect(await issuesOf({
      'idp/none.yaml': idp('none', ['  mappings:', '    - { group: a, role: platform-admin }']),
      'idp/bad.yaml': idp('bad', ['  tenant: nope', ...oidc, '  mappings:', '    - { group: a, role: tenant-member }', '    - { group: a, tenant: acme, role: platform-admin }']),
    })).toEqual([
      'idp/bad.yaml:7:11: spec.tenant: unknown tenant "nope": expected one of acme',
      'idp/bad.yaml:13:7: spec.mappings[0]: role tenant-member needs a tenant: expected tenant: <name> on this mapping',
      'idp/bad.yaml:14:16: spec.mappings[1].group: group "a" is already mapped at idp/bad.yaml:13:16: the first match wins, so this entry never applies',
      'idp/bad.yaml:14:39: spec.mappings[1].role: identity provider bad belongs to tenant nope and may not grant platform-admin: expected tenant-admin or tenant-member of tenant nope',
      'idp/none.yaml:6:3: spec: expected exactly one of oidc, saml',
    ]);
  });

  it('refuses a client secret written into the document and a relative secret path', async () => {
    const issues = await issuesOf({
      'idp/leak.yaml': idp('leak', ['  oidc:', '    issuer: https://login.example.com', '    clientId: foundry', '    clientSecret: hunter2', '  mappings:', '    - { group: a, tenant: acme, role: tenant-member }']),
      'idp/rel.yaml': idp('rel', ['  oidc:', '    issuer: https://login.example.com', '    clientId: foundry', '    clientSecretFile: idp.secret', '  mappings:', '    - { group: a, tenant: acme, role: tenant-member }']),
    });
    expect(issues).toHaveLength(2);
    expect(issues[0]).toMatch(/^idp\/leak\.yaml:10:5: spec\.oidc\.clientSecret: /);
    expect(issues[0]).not.toContain('hunter2');
    expect(issues[1]).toMatch(/^idp\/rel\.yaml:10:23: spec\.oidc\.clientSecretFile: .*absolute path/);
  });
});

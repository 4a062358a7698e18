import { describe, expect, it } from 'vitest';
import type { IdentityProvider } from '../../common/infra/model.js';
import type { User } from '../auth/users.js';
import { mapGroups, samePlacement } from './mapping.js';

const idp = (tenant: string | undefined, mappings: IdentityProvider['spec']['mappings']): IdentityProvider => ({
  apiVersion: 'foundry.cloud/v1',
  kind: 'IdentityProvider',
  metadata: { name: 'acme-sso' },
  spec: { displayName: 'ACME SSO', ...(tenant === undefined ? {} : { tenant }), oidc: { issuer: 'https://idp.example', clientId: 'foundry' }, mappings },
});

describe('mapGroups', () => {
  const platform = idp(undefined, [
    { group: 'ops', role: 'platform-admin' },
    { group: 'acme-admins', tenant: 'acme', role: 'tenant-admin' },
    { group: 'acme-users', tenant: 'acme', role: 'tenant-member' },
  ]);

  it('takes the first mapping whose group the user has', () => {
    expect(mapGroups(platform, ['acme-users', 'acme-admins'])).toEqual({ placement: { role: 'tenant', tenant: 'acme', tenantRole: 'admin' }, group: 'acme-admins' });
    expect(mapGroups(platform, ['acme-users', 'ops'])).toEqual({ placement: { role: 'admin' }, group: 'ops' });
    expect(mapGroups(platform, ['acme-users'])).toEqual({ placement: { role: 'tenant', tenant: 'acme', tenantRole: 'member' }, group: 'acme-users' });
  });

  it('refuses an unmapped user and says which groups it had and which are mapped', () => {
    expect(mapGroups(platform, ['sales'])).toEqual({ refused: 'none of your groups is mapped to a tenant or role by ACME SSO (the provider sent groups sales; mapped: ops, acme-admins, acme-users). Ask your administrator for access.' });
    expect(mapGroups(platform, [])).toMatchObject({ refused: expect.stringContaining('the provider sent no groups') });
  });

  it("never lets a tenant's provider grant platform-admin or another tenant, even if the repo check was bypassed", () => {
    const rogue = idp('acme', [{ group: 'g', role: 'platform-admin' }, { group: 'h', tenant: 'globex', role: 'tenant-admin' }]);
    expect(mapGroups(rogue, ['g'])).toEqual({ refused: 'identity provider acme-sso belongs to tenant acme and may not grant platform-admin' });
    expect(mapGroups(rogue, ['h'])).toEqual({ refused: 'the mapping of group h names no tenant this provider may grant' });
  });

  it('compares a stored user with a placement', () => {
    const user = { name: 'a', role: 'tenant', tenant: 'acme', tenantRole: 'member' } as User;
    expect(samePlacement(user, { role: 'tenant', tenant: 'acme', tenantRole: 'member' })).toBe(true);
    expect(samePlacement(user, { role: 'tenant', tenant: 'acme', tenantRole: 'admin' })).toBe(false);
    expect(samePlacement(user, { role: 'admin' })).toBe(false);
  });
});

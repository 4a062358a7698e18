/**
 * Maps an SSO identity's groups to where it belongs, by its provider's mappings: the first mapping
 * whose group the user has wins; no match is a refusal that says why. Pure: no I/O.
 */
import type { IdentityProvider } from '../../common/infra/model.js';
import type { SsoPlacement, User } from '../auth/users.js';

/** A placement with the group that decided it, or a refusal with its reason (shown to the user). */
export type MappingResult = { placement: SsoPlacement; group: string } | { refused: string };

/** Where the groups map to under `provider`'s mappings (first match wins). */
export function mapGroups(provider: IdentityProvider, groups: readonly string[]): MappingResult {
  const spec = provider.spec;
  for (const m of spec.mappings) {
    if (!groups.includes(m.group)) continue;
    if (m.role === 'platform-admin') {
      // The push-time check refuses this too; a provider loaded from elsewhere must not slip through.
      if (spec.tenant !== undefined) return { refused: `identity provider ${provider.metadata.name} belongs to tenant ${spec.tenant} and may not grant platform-admin` };
      return { placement: { role: 'admin' }, group: m.group };
    }
    const tenant = m.tenant;
    if (tenant === undefined || (spec.tenant !== undefined && tenant !== spec.tenant)) return { refused: `the mapping of group ${m.group} names no tenant this provider may grant` };
    return { placement: { role: 'tenant', tenant, tenantRole: m.role === 'tenant-admin' ? 'admin' : 'member' }, group: m.group };
  }
  const shown = groups.length === 0 ? 'no groups' : `groups ${groups.slice(0, 20).join(', ')}${groups.length > 20 ? ', ...' : ''}`;
  return { refused: `none of your groups is mapped to a tenant or role by ${spec.displayName} (the provider sent ${shown}; mapped: ${spec.mappings.map((m) => m.group).join(', ')}). Ask your administrator for access.` };
}

/** True when the user's stored role, tenant and tenant role are what `placement` says. */
export function samePlacement(user: User, placement: SsoPlacement): boolean {
  if (placement.role === 'admin') return user.role === 'admin';
  return user.role === 'tenant' && user.tenant === placement.tenant && user.tenantRole === placement.tenantRole;
}

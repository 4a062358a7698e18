/**
 * The identity providers the hub knows now: the IdentityProvider documents of the infra repo at its tip
 * (or a list given by the caller, for hubs without a repo), and whether an SSO user still has access.
 */
import type { IdentityProvider } from '../../common/infra/model.js';
import type { HubServices } from '../services.js';
import type { User } from '../auth/users.js';
import { mapGroups, samePlacement } from './mapping.js';

/** Reads the current providers. */
export type ProviderSource = () => Promise<IdentityProvider[]>;

/** Current providers by name, and the access check of SSO users' sessions and tokens. */
export class SsoDirectory {
  private last: IdentityProvider[] = [];

  constructor(private readonly source: ProviderSource, private readonly warn: (msg: string, err: unknown) => void = () => undefined) {}

  /** Every provider (the last known list when the source fails, so one bad read locks nobody out). */
  async list(): Promise<IdentityProvider[]> {
    try {
      this.last = await this.source();
    } catch (err) {
      this.warn('identity providers not read: the last known list stays in use', err);
    }
    return this.last;
  }

  /** One provider by name. */
  async get(name: string): Promise<IdentityProvider | undefined> {
    return (await this.list()).find((p) => p.metadata.name === name);
  }

  /**
   * True while an SSO user's last groups still map to the role and tenant it has: a provider or mapping
   * removed from the repo ends its sessions and tokens at their next use. Local users: always true.
   */
  async stillMapped(user: User): Promise<boolean> {
    if (user.sso === undefined) return true;
    const provider = await this.get(user.sso.provider);
    if (provider === undefined) return false;
    const mapped = mapGroups(provider, user.sso.groups);
    return 'placement' in mapped && samePlacement(user, mapped.placement);
  }
}

/** The providers of the app's infra repo at its tip (none when the hub has no repo). */
export function repoProviderSource(services: Pick<HubServices, 'gitops'>): ProviderSource {
  return async () => {
    if (services.gitops === undefined) return [];
    const repo = await services.gitops.workspaces.repo({ cached: true });
    return [...repo.identityProviders.values()].map((l) => l.doc);
  };
}

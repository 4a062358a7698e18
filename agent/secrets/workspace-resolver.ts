/**
 * The `workspace` secret source: tenant secrets the hub delivered for the workspace a container belongs
 * to (HubSecretCache, in memory). A container outside a workspace, or a secret the hub has not delivered
 * (not set by the tenant, not yet arrived, or this node is not where the workspace is placed), is a
 * problem naming the secret and the workspace; the agent then keeps what runs.
 */
import type { Owner, RuntimeSecret } from '../desired.js';
import type { HubSecretCache } from './hub-secrets.js';
import type { SecretResolver, SecretResult } from './resolver.js';

/** Resolves `source: workspace` references from the hub's deliveries. */
export class WorkspaceSecretResolver implements SecretResolver {
  readonly source = 'workspace' as const;

  constructor(private readonly cache: HubSecretCache) {}

  async resolve(owner: Owner, ref: RuntimeSecret): Promise<SecretResult> {
    if (owner.workspace === undefined) return { problem: `secret ${ref.name} (source workspace): only containers of a workspace can use tenant secrets` };
    const held = this.cache.get(owner.workspace, ref.name);
    if (held !== undefined) return { value: held.value };
    const why = this.cache.problems().get(`${owner.workspace}/${ref.name}`);
    return { problem: why ?? `secret ${ref.name} of workspace ${owner.workspace}: the hub has delivered no such tenant secret (set it with foundry workspace secret set ${owner.workspace} ${ref.name})` };
  }
}

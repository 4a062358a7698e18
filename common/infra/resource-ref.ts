/**
 * Identity of a resource the agent manages on a node: a typed value (kind + scope + owner + name), never
 * a string parsed back. A container called `net` and its workspace's network are different resources
 * because their kinds differ, whatever their display ids look like.
 */

/** What a resource is, in the order they are created (networks and volumes before containers). */
export type ResourceKind = 'network' | 'volume' | 'container' | 'vm';

/** What a resource belongs to on its node: the profile's baseline, a central service, or a workspace. */
export type ResourceScope = 'profile' | 'service' | 'workspace';

/** The identity of one managed resource on one node. */
export interface ResourceRef {
  kind: ResourceKind;
  scope: ResourceScope;
  /** Name of the profile, service or workspace the resource belongs to. */
  owner: string;
  /** Declared name within its scope: the container's, volume's or VM's name; `network` for the scope's one network. */
  name: string;
}

/** The name every scope's own network carries in its ref (one network per profile, service and workspace). */
export const SCOPE_NETWORK = 'network';

/** A map key for `ref`: unique per resource, opaque, never parsed back. */
export function refKey(ref: ResourceRef): string {
  return JSON.stringify([ref.kind, ref.scope, ref.owner, ref.name]);
}

/** True when `a` and `b` name the same resource. */
export function sameRef(a: ResourceRef, b: ResourceRef): boolean {
  return a.kind === b.kind && a.scope === b.scope && a.owner === b.owner && a.name === b.name;
}

/** For people: e.g. `container net of workspace acme-alice`. */
export function describeRef(ref: ResourceRef): string {
  return ref.kind === 'network' ? `network of ${ref.scope} ${ref.owner}` : `${ref.kind} ${ref.name} of ${ref.scope} ${ref.owner}`;
}

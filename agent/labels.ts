/**
 * Ownership labels put on everything the agent creates. The agent rebuilds what it manages from these
 * alone after a restart, and never touches anything without MANAGED_BY.
 */
import type { ResourceKind, ResourceRef } from '../common/infra/resource-ref.js';
import type { Owner } from './desired.js';

export const LABEL_PREFIX = 'foundry.cloud/';
export const LABELS = {
  managedBy: 'foundry.cloud/managed-by',
  node: 'foundry.cloud/node',
  id: 'foundry.cloud/id',
  /** The declared name within its scope (ResourceRef.name); the scope comes from the owner labels, the kind from where it lives. */
  name: 'foundry.cloud/name',
  workspace: 'foundry.cloud/workspace',
  tenant: 'foundry.cloud/tenant',
  service: 'foundry.cloud/service',
  profile: 'foundry.cloud/profile',
  specHash: 'foundry.cloud/spec-hash',
  reclaim: 'foundry.cloud/reclaim',
  /** Runtime secrets a container uses (content-addressed names with a keyed digest: they reveal nothing of the values). */
  secrets: 'foundry.cloud/secrets',
} as const;

/** Value of the managed-by label. */
export const MANAGED_BY = 'foundry-agent';

/** The ownership labels for a resource (no secrets: ids, names and a hash only); `ref` adds its declared name. */
export function ownershipLabels(id: string, owner: Owner, specHash: string, reclaim: 'Retain' | 'Delete', ref?: ResourceRef): Record<string, string> {
  const labels: Record<string, string> = {
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.node]: owner.node,
    [LABELS.id]: id,
    [LABELS.specHash]: specHash,
    [LABELS.reclaim]: reclaim,
  };
  if (ref !== undefined) labels[LABELS.name] = ref.name;
  if (owner.workspace !== undefined) labels[LABELS.workspace] = owner.workspace;
  if (owner.tenant !== undefined) labels[LABELS.tenant] = owner.tenant;
  if (owner.service !== undefined) labels[LABELS.service] = owner.service;
  if (owner.profile !== undefined) labels[LABELS.profile] = owner.profile;
  return labels;
}

/** What the ownership labels say about a resource. */
export interface OwnedMarks {
  id: string;
  /** Identity: the kind the runtime holds it as, scope and owner from the owner labels, name from LABELS.name; undefined on older marks without a name. */
  ref: ResourceRef | undefined;
  owner: Owner;
  specHash: string | undefined;
  reclaim: 'Retain' | 'Delete';
}

/** Reads the owner back from labels of a resource of `kind`; undefined when the resource is not ours or belongs to another node. */
export function ownerFromLabels(labels: Record<string, string> | undefined, node: string, kind?: ResourceKind): OwnedMarks | undefined {
  if (labels === undefined || labels[LABELS.managedBy] !== MANAGED_BY) return undefined;
  const id = labels[LABELS.id];
  if (id === undefined || labels[LABELS.node] !== node) return undefined;
  const owner: Owner = { node };
  if (labels[LABELS.workspace] !== undefined) owner.workspace = labels[LABELS.workspace];
  if (labels[LABELS.tenant] !== undefined) owner.tenant = labels[LABELS.tenant];
  if (labels[LABELS.service] !== undefined) owner.service = labels[LABELS.service];
  if (labels[LABELS.profile] !== undefined) owner.profile = labels[LABELS.profile];
  return { id, ref: kind === undefined ? undefined : refOf(kind, owner, labels[LABELS.name]), owner, specHash: labels[LABELS.specHash], reclaim: labels[LABELS.reclaim] === 'Delete' ? 'Delete' : 'Retain' };
}

/** The ref of a resource of `kind` owned by `owner` with declared `name`; undefined without a name or an owning scope. */
export function refOf(kind: ResourceKind, owner: Owner, name: string | undefined): ResourceRef | undefined {
  if (name === undefined || name === '') return undefined;
  if (owner.workspace !== undefined) return { kind, scope: 'workspace', owner: owner.workspace, name };
  if (owner.service !== undefined) return { kind, scope: 'service', owner: owner.service, name };
  if (owner.profile !== undefined) return { kind, scope: 'profile', owner: owner.profile, name };
  return undefined;
}

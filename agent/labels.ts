/**
 * Ownership labels put on everything the agent creates. The agent rebuilds what it manages from these
 * alone after a restart, and never touches anything without MANAGED_BY.
 */
import type { Owner } from './desired.js';

export const LABEL_PREFIX = 'foundry.cloud/';
export const LABELS = {
  managedBy: 'foundry.cloud/managed-by',
  node: 'foundry.cloud/node',
  id: 'foundry.cloud/id',
  workspace: 'foundry.cloud/workspace',
  tenant: 'foundry.cloud/tenant',
  service: 'foundry.cloud/service',
  profile: 'foundry.cloud/profile',
  specHash: 'foundry.cloud/spec-hash',
  reclaim: 'foundry.cloud/reclaim',
} as const;

/** Value of the managed-by label. */
export const MANAGED_BY = 'foundry-agent';

/** The ownership labels for a resource (no secrets: ids, names and a hash only). */
export function ownershipLabels(id: string, owner: Owner, specHash: string, reclaim: 'Retain' | 'Delete'): Record<string, string> {
  const labels: Record<string, string> = {
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.node]: owner.node,
    [LABELS.id]: id,
    [LABELS.specHash]: specHash,
    [LABELS.reclaim]: reclaim,
  };
  if (owner.workspace !== undefined) labels[LABELS.workspace] = owner.workspace;
  if (owner.tenant !== undefined) labels[LABELS.tenant] = owner.tenant;
  if (owner.service !== undefined) labels[LABELS.service] = owner.service;
  if (owner.profile !== undefined) labels[LABELS.profile] = owner.profile;
  return labels;
}

/** Reads the owner back from labels; undefined when the resource is not ours or belongs to another node. */
export function ownerFromLabels(labels: Record<string, string> | undefined, node: string): { id: string; owner: Owner; specHash: string | undefined; reclaim: 'Retain' | 'Delete' } | undefined {
  if (labels === undefined || labels[LABELS.managedBy] !== MANAGED_BY) return undefined;
  const id = labels[LABELS.id];
  if (id === undefined || labels[LABELS.node] !== node) return undefined;
  const owner: Owner = { node };
  if (labels[LABELS.workspace] !== undefined) owner.workspace = labels[LABELS.workspace];
  if (labels[LABELS.tenant] !== undefined) owner.tenant = labels[LABELS.tenant];
  if (labels[LABELS.service] !== undefined) owner.service = labels[LABELS.service];
  if (labels[LABELS.profile] !== undefined) owner.profile = labels[LABELS.profile];
  return { id, owner, specHash: labels[LABELS.specHash], reclaim: labels[LABELS.reclaim] === 'Delete' ? 'Delete' : 'Retain' };
}

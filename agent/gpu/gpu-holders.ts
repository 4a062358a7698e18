/**
 * Who holds each GPU, for the telemetry labels (workspace, tenant): the declared allocation (the desired
 * state's workspaces and the GPU UUIDs they were placed on) first; for a GPU nobody declared, the one
 * workspace its processes (or its VM passthrough) are attributed to. Pure.
 */
import type { WorkspaceAllocation } from '../usage/usage-types.js';
import type { GpuAttribution } from './attribution.js';
import type { GpuHolder } from './telemetry-body.js';
import { compareText } from '../../common/text-order.js';

/** GPU UUID → the workspace that declares it (by workspace name order when two claim one, which placement forbids). */
export function declaredHolders(allocations: readonly WorkspaceAllocation[]): Map<string, GpuHolder> {
  const out = new Map<string, GpuHolder>();
  for (const a of [...allocations].sort((x, y) => compareText(x.workspace, y.workspace))) {
    for (const g of a.gpus) if (!out.has(g.uuid)) out.set(g.uuid, { workspace: a.workspace, tenant: a.tenant === '' ? null : a.tenant });
  }
  return out;
}

/** GPU UUID → the single workspace its processes or VM belong to; GPUs used by several workspaces (or none) get no holder. */
export function attributedHolders(gpus: readonly GpuAttribution[]): Map<string, GpuHolder> {
  const out = new Map<string, GpuHolder>();
  for (const g of gpus) {
    if (g.uuid === null) continue;
    const owners = g.holders.filter((h) => (h.kind === 'workspace' || h.kind === 'vm') && h.workspace !== undefined);
    const names = new Set(owners.map((h) => h.workspace));
    const first = owners[0];
    if (names.size !== 1 || first?.workspace === undefined) continue;
    out.set(g.uuid, { workspace: first.workspace, tenant: owners.find((h) => h.tenant !== undefined)?.tenant ?? null });
  }
  return out;
}

/**
 * Pure: allocation observations over a window → resource usage records (vCPUs, memory, storage), by the
 * same slot rule as the GPU records (gpu-records.ts): a workspace is billed for a slot only when the
 * slot holds at least one observation and every observation in it shows the workspace running with
 * resources; the slot's quantities are the least seen in it (a start, stop or resize costs at most one
 * slot, in the customer's favour). Contiguous slots with the same tenant and quantities merge.
 */
import { slotRuns, type UsageWindow } from './gpu-records.js';
import type { AllocationObservation, HeldResources, ResourceUsageRecord } from './usage-types.js';
import { compareText } from '../../common/text-order.js';

interface Held extends HeldResources { workspace: string; tenant: string }

// Resources held throughout one slot, by workspace: running with resources in every observation, the least of each.
function heldInSlot(obs: AllocationObservation[]): Map<string, Held> {
  let held: Map<string, Held> | undefined;
  for (const o of obs) {
    const now = new Map<string, Held>();
    for (const w of o.workspaces) {
      if (!w.running || w.resources === undefined) continue;
      const before = held?.get(w.workspace);
      if (held !== undefined && (before === undefined || before.tenant !== w.tenant)) continue;
      const r = w.resources;
      now.set(w.workspace, before === undefined
        ? { workspace: w.workspace, tenant: w.tenant, milliVcpus: r.milliVcpus, memoryBytes: r.memoryBytes, storageBytes: r.storageBytes }
        : { workspace: w.workspace, tenant: w.tenant, milliVcpus: Math.min(before.milliVcpus, r.milliVcpus), memoryBytes: Math.min(before.memoryBytes, r.memoryBytes), storageBytes: Math.min(before.storageBytes, r.storageBytes) });
    }
    held = now;
  }
  return new Map([...(held ?? [])].filter(([, h]) => h.milliVcpus > 0 || h.memoryBytes > 0 || h.storageBytes > 0));
}

const same = (a: Held, b: Held): boolean => a.tenant === b.tenant && a.milliVcpus === b.milliVcpus && a.memoryBytes === b.memoryBytes && a.storageBytes === b.storageBytes;

/** Resource records for the window (observations only; samples are ignored), sorted by start and workspace. */
export function resourceRecords(w: UsageWindow): ResourceUsageRecord[] {
  return slotRuns(w, heldInSlot, same)
    .map((r): ResourceUsageRecord => ({
      kind: 'resource-allocation', version: 1, key: `${w.node}/${r.workspace}/resources/${r.fromMs}`,
      node: w.node, workspace: r.workspace, tenant: r.tenant,
      milliVcpus: r.milliVcpus, memoryBytes: r.memoryBytes, storageBytes: r.storageBytes,
      from: r.fromMs, to: r.toMs, fromIso: new Date(r.fromMs).toISOString(), toIso: new Date(r.toMs).toISOString(), seconds: (r.toMs - r.fromMs) / 1000,
    }))
    .sort((a, b) => a.from - b.from || compareText(a.workspace, b.workspace));
}

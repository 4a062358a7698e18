/**
 * The usage record: which GPU a running workspace held, on which node, from when to when. The agent emits
 * these into the hub link's exactly-once outbox; billing rates `seconds` by `gpuModel` at the price valid
 * at `from`. Measured utilization rides along, labelled as measured, and is never part of the amount.
 * Next to them, ResourceUsageRecord (kind resource-allocation) says what else a running workspace held:
 * the vCPUs, memory and storage its running containers and VM declare.
 */
import type { GpuAllocationRecord } from '../../common/generated/protocol/usage-record-gpu-allocation.js';
import type { ResourceAllocationRecord } from '../../common/generated/protocol/usage-record-resource-allocation.js';
import type { HeldResources } from '../../common/infra/held-resources.js';

/**
 * One GPU held by one running workspace over one contiguous interval. The wire format is the JSON Schema
 * schemas/protocol/usage-record-gpu-allocation.schema.json; the hub decodes and admits records against it.
 */
export type UsageRecord = GpuAllocationRecord;

/** Declared vCPUs, memory and storage, in integer units (one rule for hub and agent: common/infra/held-resources.ts). */
export type { HeldResources };

/** What one running workspace held besides GPUs over one interval (schemas/protocol/usage-record-resource-allocation.schema.json). */
export type ResourceUsageRecord = ResourceAllocationRecord;

/** Any record the usage emitter produces. */
export type AnyUsageRecord = UsageRecord | ResourceUsageRecord;

/** What a workspace holds on this node right now, as the agent observes it. */
export interface WorkspaceAllocation {
  workspace: string;
  tenant: string;
  gpus: Array<{ uuid: string; model: string | null }>;
  /** True only when the workspace's state is running AND a container (or its VM) of it is running. */
  running: boolean;
  /** Declared vCPUs, memory and storage of its containers and VM observed running, while it runs; absent when none. */
  resources?: HeldResources;
}

/** The allocation seen at one instant. */
export interface AllocationObservation {
  at: number;
  workspaces: WorkspaceAllocation[];
}

/** Utilization readings at one instant (a GpuStats fits). */
export interface UtilizationSample {
  at: number;
  gpus: Array<{ uuid: string; utilizationGpuPct: number | null }>;
}

/** Default resolution of usage records. */
export const DEFAULT_USAGE_RESOLUTION_MS = 10_000;

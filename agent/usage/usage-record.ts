/**
 * The usage record: which GPU a running workspace held, on which node, from when to when. The agent emits
 * these into the hub link's exactly-once outbox; billing rates `seconds` by `gpuModel` at the price valid
 * at `from`. Measured utilization rides along, labelled as measured, and is never part of the amount.
 * Next to them, ResourceUsageRecord (kind resource-allocation) says what else a running workspace held:
 * the vCPUs, memory and storage its running containers and VM declare.
 */

/** One GPU held by one running workspace over one contiguous interval. Field names are the wire format. */
export interface UsageRecord {
  /** Record kind and version, so billing can evolve the format. */
  kind: 'gpu-allocation';
  version: 1;
  /** Deterministic id: `${node}/${workspace}/${gpuUuid}/${from}`; the same interval always gets the same key. */
  key: string;
  node: string;
  workspace: string;
  tenant: string;
  gpuUuid: string;
  /** Model name as nvidia-smi reports it (e.g. "NVIDIA H100 80GB HBM3"); null when unknown. */
  gpuModel: string | null;
  /** Start, epoch ms, aligned to the resolution; inclusive. */
  from: number;
  /** End, epoch ms, aligned to the resolution; exclusive. */
  to: number;
  /** The same instants as RFC 3339 UTC strings, for people reading the records. */
  fromIso: string;
  toIso: string;
  /** Billable allocated seconds: (to - from) / 1000, an integer. */
  seconds: number;
  /** Mean of the measured GPU utilization samples in the interval (percent); null when none (e.g. MIG). Informational only. */
  measuredAvgUtilizationPct: number | null;
  /** How many utilization samples the mean is over. */
  measuredSamples: number;
}

/** Declared vCPUs, memory and storage, in integer units. */
export interface HeldResources {
  /** Thousandths of a vCPU (a container's cpus: 0.5 → 500). */
  milliVcpus: number;
  memoryBytes: number;
  storageBytes: number;
}

/** The vCPUs, memory and storage one running workspace held over one contiguous interval. Field names are the wire format. */
export interface ResourceUsageRecord extends HeldResources {
  kind: 'resource-allocation';
  version: 1;
  /** Deterministic id: `${node}/${workspace}/resources/${from}`. */
  key: string;
  node: string;
  workspace: string;
  tenant: string;
  /** Start (inclusive) and end (exclusive), epoch ms, aligned to the resolution. */
  from: number;
  to: number;
  fromIso: string;
  toIso: string;
  /** (to - from) / 1000, an integer. */
  seconds: number;
}

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

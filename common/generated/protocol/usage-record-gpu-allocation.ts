// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.

/**
 * Usage record kind gpu-allocation: one GPU held by one running workspace over one contiguous interval (agent/usage/usage-records.ts). Billing rates `seconds` by `gpuModel`.
 */
export interface GpuAllocationRecord {
  /**
   * Record kind.
   */
  kind: "gpu-allocation";
  /**
   * Record format version.
   */
  version: 1;
  /**
   * Deterministic id of the interval (node/workspace/.../from): the same interval always gets the same key.
   */
  key: string;
  /**
   * Node that measured the interval; must be the node the credential belongs to.
   */
  node: string;
  /**
   * Workspace (metadata.name) that held it.
   */
  workspace: string;
  /**
   * Tenant of the workspace.
   */
  tenant: string;
  /**
   * UUID of the GPU as nvidia-smi reports it.
   */
  gpuUuid: string;
  /**
   * Model name as nvidia-smi reports it (e.g. "NVIDIA H100 80GB HBM3"); null when unknown.
   */
  gpuModel: string | null;
  /**
   * Start, epoch ms, aligned to the usage resolution; inclusive.
   */
  from: number;
  /**
   * End, epoch ms, aligned to the usage resolution; exclusive.
   */
  to: number;
  /**
   * `from` as an RFC 3339 UTC string, for people reading the records.
   */
  fromIso: string;
  /**
   * `to` as an RFC 3339 UTC string.
   */
  toIso: string;
  /**
   * Billable allocated seconds: (to - from) / 1000, an integer.
   */
  seconds: number;
  /**
   * Mean measured GPU utilization over the interval (percent); null when none. Informational only, never billed.
   */
  measuredAvgUtilizationPct: number | null;
  /**
   * How many utilization samples the mean is over.
   */
  measuredSamples: number;
}

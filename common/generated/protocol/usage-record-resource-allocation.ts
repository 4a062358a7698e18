// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.

/**
 * Usage record kind resource-allocation: the vCPUs, memory and storage one running workspace held over one contiguous interval, as its running containers and VM declare them (agent/usage/resource-records.ts).
 */
export interface ResourceAllocationRecord {
  /**
   * Record kind.
   */
  kind: "resource-allocation";
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
   * Thousandths of a vCPU (a container's cpus: 0.5 -> 500).
   */
  milliVcpus: number;
  /**
   * Declared memory, bytes.
   */
  memoryBytes: number;
  /**
   * Declared storage (a libvirt VM's boot disk), bytes.
   */
  storageBytes: number;
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
}

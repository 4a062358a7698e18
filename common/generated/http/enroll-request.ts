// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.

/**
 * Body of POST /api/v1/enroll: a join token, the name the node wants and its inventory.
 */
export interface EnrollRequest {
  /**
   * The join token's secret part (fjt_<secret>); the pin and hub parts may be included.
   */
  token: string;
  /**
   * Node name: a DNS label, by default the host name.
   */
  node: string;
  /**
   * The hub URL as the node reaches it; the returned agent configuration uses it.
   */
  hubUrl?: string;
  /**
   * The node's age public key (age1...): its private key stays on the node (mode 0600 in the state dir). The hub writes it into the Node file and encrypts the secrets of the node's workloads to it.
   */
  ageRecipient?: string;
  /**
   * What the node has, collected by `foundry agent enroll` (systeminformation and nvidia-smi).
   */
  inventory: {
    hostname: string;
    /**
     * Distribution and release, e.g. debian 12.
     */
    os?: string;
    /**
     * CPU architecture as Node reports it, e.g. x64.
     */
    arch?: string;
    agentVersion?: string;
    cpu: {
      model?: string | null;
      cores: number;
    };
    memoryBytes: number;
    /**
     * @maxItems 128
     */
    disks: {
      mount: string;
      type?: string;
      sizeBytes: number;
      availableBytes?: number;
    }[];
    /**
     * @maxItems 64
     */
    gpus: {
      uuid: string;
      model?: string | null;
      memoryTotalMiB?: number | null;
      pciBusId?: string | null;
    }[];
  };
}

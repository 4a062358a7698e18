// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.

/**
 * Cluster-wide settings: the hub's URL and defaults for every agent. Exactly one per infra repo (cluster.yaml).
 */
export interface Cluster {
  /**
   * Schema version of the document. Always foundry.cloud/v1.
   */
  apiVersion: "foundry.cloud/v1";
  /**
   * Kind of document.
   */
  kind: "Cluster";
  metadata: Metadata;
  /**
   * Cluster settings.
   */
  spec: {
    /**
     * Optional: the hub's URL as admins know it. Agents dial the URL in their own configuration (written at enrollment); an enrolled agent whose configured hub URL has another origin logs a hub-url-mismatch warning.
     */
    hubUrl?: string;
    /**
     * How often agents fetch the infra repo (default 60s, jittered).
     */
    pollInterval?: string;
    /**
     * How often agents sample GPUs and the host and send telemetry (default 5s; read from the last good revision before each tick). At most 10s: a usage slot without a tick is never billed.
     */
    telemetryInterval?: string;
    /**
     * Length of one usage slot for billing: fixed at 10s (the agents' usage records and the hub's billing rules assume it). Accepted so that existing repos stay valid; any other value is refused.
     */
    usageResolution?: "10s";
    /**
     * Host path prefixes that containers may bind-mount. Empty: no bind mounts.
     */
    allowedHostPaths?: string[];
    /**
     * Folder of VM base images on the nodes (default /var/lib/foundry/images): disk.baseImage names a file in it. The agent enforces its own libvirt.imageDir too.
     */
    vmImageDir?: string;
    /**
     * CDI devices (vendor/class=name) that workspace templates may name in devices. GPU devices are never allowed there (gpus: true hands out the workspace's own GPUs).
     */
    templateDevices?: string[];
    /**
     * Allow a revision to prune more than half of what an agent manages. Set it only in the commit that means it, then remove it.
     */
    allowMassPrune?: boolean;
  };
}
/**
 * Identity of the document.
 */
export interface Metadata {
  /**
   * A resource name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (a DNS label).
   */
  name: string;
  labels?: Labels;
  /**
   * Free-form notes for people and tools; never interpreted by FoundryCloud.
   */
  annotations?: {
    [k: string]: string;
  };
}
/**
 * Key/value labels used by selectors. Keys: an optional DNS prefix and '/', then letters, digits, '-', '_', '.'. Values: at most 63 characters.
 */
export interface Labels {
  [k: string]: string;
}

// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.

/**
 * A tenant's workspace: a template with GPUs, placed on a node by the hub (or by an admin).
 */
export interface Workspace {
  /**
   * Schema version of the document. Always foundry.cloud/v1.
   */
  apiVersion: "foundry.cloud/v1";
  /**
   * Kind of document.
   */
  kind: "Workspace";
  metadata: Metadata;
  /**
   * Workspace settings.
   */
  spec: {
    /**
     * A resource name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (a DNS label).
     */
    tenant: string;
    /**
     * A resource name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (a DNS label).
     */
    template: string;
    /**
     * GPUs the workspace holds while running.
     */
    gpus?: {
      /**
       * Number of GPUs.
       */
      count?: number;
      /**
       * Required GPU model; any model when absent.
       */
      model?: string;
      /**
       * Concrete GPUs, written by the hub scheduler with node.
       *
       * Items: A GPU or MIG device UUID as nvidia-smi reports it, e.g. GPU-2f2a6c1e-... or MIG-...
       */
      uuids?: string[];
    };
    /**
     * A resource name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (a DNS label).
     */
    node?: string;
    nodeSelector?: Labels1;
    /**
     * running (default) or stopped. A stopped workspace keeps its node, GPUs and volumes and is not billed.
     */
    state?: "running" | "stopped";
    /**
     * Retain (default) keeps named volumes when the workspace is removed; Delete removes them.
     */
    reclaimPolicy?: "Retain" | "Delete";
    /**
     * Environment variables added to every container of the workspace (override the template).
     */
    env?: {
      [k: string]: string;
    };
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
/**
 * Key/value labels used by selectors. Keys: an optional DNS prefix and '/', then letters, digits, '-', '_', '.'. Values: at most 63 characters.
 */
export interface Labels1 {
  [k: string]: string;
}

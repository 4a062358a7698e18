// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.

/**
 * A machine the agent runs on: its profile, labels, reservations and whether it is draining. One file per node under nodes/.
 */
export interface Node {
  /**
   * Schema version of the document. Always foundry.cloud/v1.
   */
  apiVersion: "foundry.cloud/v1";
  /**
   * Kind of document.
   */
  kind: "Node";
  metadata: Metadata;
  /**
   * Node settings.
   */
  spec: {
    /**
     * A resource name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (a DNS label).
     */
    profile: string;
    labels?: Labels1;
    /**
     * The node's age public key (its private key never leaves the node): enrollment writes it; `foundry secret encrypt` encrypts to it the secrets of workloads placed here.
     */
    ageRecipient?: string;
    /**
     * No new workspaces are placed here; existing ones stay until moved or deleted.
     */
    drain?: boolean;
    /**
     * Resources kept for the system, not offered to workspaces.
     */
    reservations?: {
      /**
       * Cores reserved.
       */
      cpus?: number;
      /**
       * Memory reserved.
       */
      memory?: string;
    };
    /**
     * Expected capacity, used for planning before the agent reports its real inventory.
     */
    capacity?: {
      /**
       * Cores.
       */
      cpus?: number;
      /**
       * Memory.
       */
      memory?: string;
    };
    /**
     * GPUs expected on the node (the agent reports the real ones). Workspaces may only claim GPUs listed here when the list is given.
     */
    gpus?: {
      /**
       * A GPU or MIG device UUID as nvidia-smi reports it, e.g. GPU-2f2a6c1e-... or MIG-...
       */
      uuid: string;
      /**
       * A GPU model as nvidia-smi reports it in the 'name' field, e.g. 'NVIDIA H100 80GB HBM3'.
       */
      model: string;
      /**
       * PCI address, used for VM passthrough.
       */
      pciAddress?: string;
    }[];
    /**
     * PCI devices (besides its GPUs) that VMs of workspace templates may pass through on this node (vm.hostDevices). Empty: none.
     *
     * Items: A PCI address in domain:bus:slot.function form, e.g. 0000:17:00.0.
     */
    allowedHostDevices?: string[];
    /**
     * Allow a revision to prune more than half of what this node runs.
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
/**
 * Key/value labels used by selectors. Keys: an optional DNS prefix and '/', then letters, digits, '-', '_', '.'. Values: at most 63 characters.
 */
export interface Labels1 {
  [k: string]: string;
}

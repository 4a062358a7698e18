// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.

/**
 * A status transition of the node and its resources (sent through the durable outbox, so it carries seq).
 */
export interface StatusMessage {
  /**
   * Protocol version.
   */
  v: 1;
  /**
   * Message type.
   */
  type: "status";
  /**
   * Sender-chosen message id, echoed in errors about this message.
   */
  id: string;
  /**
   * Per-node sequence number from the agent outbox; the hub de-duplicates by (node, seq) and acknowledges it.
   */
  seq: number;
  /**
   * When the sender created the message (RFC 3339).
   */
  ts: string;
  body: {
    /**
     * Name of the sending node; must be the node the credential belongs to.
     */
    node: string;
    /**
     * Revision the agent last looked at.
     */
    observedRevision?: string | null;
    /**
     * Revision the agent last applied completely.
     */
    lastAppliedRevision?: string | null;
    /**
     * Conditions of the node as a whole.
     *
     * @maxItems 32
     *
     * Items: One condition, Kubernetes style.
     */
    conditions: {
      /**
       * Condition type: Ready, Reconciling, Stalled, or a runtime condition such as PodmanCapabilities (False when Podman lacks netavark, aardvark-dns or the pause binary); any other type is stored as sent.
       */
      type: string;
      /**
       * True, False or Unknown.
       */
      status: "True" | "False" | "Unknown";
      /**
       * PascalCase reason.
       */
      reason: string;
      /**
       * Human-readable detail, lowercase, no secrets.
       */
      message?: string;
      /**
       * When the status last changed (RFC 3339).
       */
      lastTransitionTime?: string;
    }[];
    /**
     * Conditions per managed resource.
     *
     * @maxItems 10000
     */
    resources: {
      /**
       * Display id of the resource, for people; two kinds may share one, so readers key on kind with workspace or service and never parse it.
       */
      id: string;
      /**
       * What the resource is.
       */
      kind?: "network" | "volume" | "container" | "vm";
      /**
       * Workspace the resource belongs to, when it belongs to one.
       */
      workspace?: string;
      /**
       * Service the resource belongs to, when it belongs to one.
       */
      service?: string;
      /**
       * A running container's published ports: the node address and host port the runtime actually bound (the hub routes the workspace's apps there).
       *
       * @maxItems 64
       */
      ports?: {
        /**
         * Port inside the container.
         */
        containerPort: number;
        /**
         * tcp or udp.
         */
        protocol: "tcp" | "udp" | "sctp";
        /**
         * Address bound on the node; empty or 0.0.0.0 for all addresses (the hub then dials the Node's spec.network.internalAddress).
         */
        hostIp: string;
        /**
         * Port bound on the node.
         */
        hostPort: number;
      }[];
      /**
       * @maxItems 32
       *
       * Items: One condition, Kubernetes style.
       */
      conditions: {
        /**
         * Condition type: Ready, Reconciling, Stalled, Degraded...
         */
        type: string;
        /**
         * True, False or Unknown.
         */
        status: "True" | "False" | "Unknown";
        /**
         * PascalCase reason.
         */
        reason: string;
        /**
         * Human-readable detail, lowercase, no secrets.
         */
        message?: string;
        /**
         * When the status last changed (RFC 3339).
         */
        lastTransitionTime?: string;
      }[];
    }[];
    /**
     * Outcome of the reconcile run that produced this status (counted in the hub's metrics).
     */
    reconcile?: {
      result: "success" | "failure" | "noop";
      durationMs?: number;
    };
  };
}

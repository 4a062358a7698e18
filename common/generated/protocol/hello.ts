// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.

/**
 * First message of an agent on a new connection: who it is, what it runs, what it has applied.
 */
export interface HelloMessage {
  /**
   * Protocol version.
   */
  v: 1;
  /**
   * Message type.
   */
  type: "hello";
  /**
   * Sender-chosen message id, echoed in errors about this message.
   */
  id: string;
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
     * Version of the foundry package the agent runs.
     */
    agentVersion: string;
    /**
     * Last infra-repo revision the agent applied, or null before the first.
     */
    appliedRevision: string | null;
    /**
     * The node's age public key (age1...), from its identity file in the state dir; the hub records it (nodes enrolled before keys existed report theirs here).
     */
    ageRecipient?: string;
    /**
     * What the node has: GPUs and the resources the agent manages.
     */
    inventory: {
      /**
       * @maxItems 64
       */
      gpus: {
        uuid: string;
        model?: string | null;
        memoryTotalMiB?: number | null;
        pciBusId?: string | null;
      }[];
      /**
       * Ids of the resources the agent manages (kind/name).
       *
       * @maxItems 10000
       */
      resources: string[];
    };
  };
}

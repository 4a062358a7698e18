// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.

/**
 * Hub to agent: the tenant secrets of workspaces placed on this node at the branch tip, each value age-encrypted to this node's recipient (never plaintext). `workspaces` is the complete list of workspaces whose secrets the node holds from now on: it drops the secrets of every other workspace (a workspace moved away or deleted). `update`, when present, replaces the whole set of one of them. Sent on connect and whenever a secret or a placement changes.
 */
export interface SecretsMessage {
  /**
   * Protocol version.
   */
  v: 1;
  /**
   * Message type.
   */
  type: "secrets";
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
     * The node this is for (the connection's own).
     */
    node: string;
    /**
     * Branch tip the placements were read at.
     */
    revision: string;
    /**
     * Every workspace placed on this node whose secrets it keeps; the node forgets the secrets of any other.
     *
     * @maxItems 10000
     */
    workspaces: string[];
    /**
     * The complete set of one workspace's secrets (an empty list: it has none now).
     */
    update?: {
      workspace: string;
      /**
       * @maxItems 32
       */
      secrets: {
        name: string;
        /**
         * Increases with every change of the value.
         */
        version: number;
        /**
         * The value as an ASCII-armored age file encrypted to this node's recipient only.
         */
        ciphertext?: string;
        /**
         * Why the hub cannot deliver this version (its stored ciphertext is damaged): the node keeps the value it has.
         */
        unavailable?: string;
      }[];
    };
  };
}

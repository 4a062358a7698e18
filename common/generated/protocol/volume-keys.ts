// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.

/**
 * Hub to agent: volume keys, each an age file encrypted to this node's recipient only (never plaintext); keys the hub refuses, with why; and workspaces whose keys were destroyed, which the node forgets.
 */
export interface VolumeKeysMessage {
  /**
   * Protocol version.
   */
  v: 1;
  /**
   * Message type.
   */
  type: "volume-keys";
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
     * @maxItems 256
     */
    keys: {
      workspace: string;
      kind: "volume" | "vm-disk";
      name: string;
      /**
       * The 32-byte key as an ASCII-armored age file encrypted to the node's recipient.
       */
      ciphertext: string;
    }[];
    /**
     * Requested keys the hub does not give, with the reason (shown in the resource's condition).
     *
     * @maxItems 256
     */
    refused?: {
      workspace: string;
      kind: "volume" | "vm-disk";
      name: string;
      reason: string;
    }[];
    /**
     * Workspaces whose keys the hub destroyed: the node zeroes and drops every key of them.
     *
     * @maxItems 10000
     */
    forget?: string[];
  };
}

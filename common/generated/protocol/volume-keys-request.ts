// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.

/**
 * Agent to hub: the volume keys this node needs and does not hold (after a restart its keyring is empty). The hub answers with a volume-keys message, each key encrypted to the age recipient the node registered (enrollment, hello); it gives a key only for a workspace placed on this node at the branch tip, creating it on first request.
 */
export interface VolumeKeysRequestMessage {
  /**
   * Protocol version.
   */
  v: 1;
  /**
   * Message type.
   */
  type: "volume-keys-request";
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
     * The node asking (the connection's own).
     */
    node: string;
    /**
     * The volume keys wanted.
     *
     * @maxItems 256
     */
    keys: KeyRef[];
  };
}
/**
 * One volume key: the workspace, what it encrypts, the declared name.
 */
export interface KeyRef {
  workspace: string;
  /**
   * volume: a named container volume (gocryptfs); vm-disk: a VM's disk (LUKS).
   */
  kind: "volume" | "vm-disk";
  name: string;
}

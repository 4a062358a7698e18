// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.

/**
 * Hub to agent: do something now.
 */
export interface CommandMessage {
  /**
   * Protocol version.
   */
  v: 1;
  /**
   * Message type.
   */
  type: "command";
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
     * sync-now: fetch the infra repo and reconcile now; drain: stop accepting new workspaces.
     */
    name: "sync-now" | "drain";
    /**
     * Revision that triggered a sync, when known.
     */
    revision?: string;
    /**
     * Why, for the agent's log.
     */
    reason?: string;
  };
}

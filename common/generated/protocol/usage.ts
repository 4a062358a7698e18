// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.

/**
 * One usage record from the agent's durable outbox; billing relies on it arriving exactly once.
 */
export interface UsageMessage {
  /**
   * Protocol version.
   */
  v: 1;
  /**
   * Message type.
   */
  type: "usage";
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
     * The usage record as the agent's usage emitter produced it (stored verbatim; rated by billing).
     */
    record: {
      [k: string]: unknown;
    };
  };
}

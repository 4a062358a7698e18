// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.

/**
 * Hub to agent: these outbox sequence numbers are settled (committed to the hub's store, duplicates too, or refused); the agent deletes them from its outbox.
 */
export interface AckMessage {
  /**
   * Protocol version.
   */
  v: 1;
  /**
   * Message type.
   */
  type: "ack";
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
     * Every settled seq, refused ones included, so an agent that does not read `refused` still drains its outbox.
     *
     * @maxItems 100000
     */
    seqs: number[];
    /**
     * Usage records the hub refused and will never bill (optional; absent when none). Each of their seqs is also in `seqs`.
     *
     * @maxItems 100000
     */
    refused?: {
      seq: number;
      /**
       * Why, as a code (see docs/billing.md#usage-admission).
       */
      reason: string;
      /**
       * The record field at fault, as a JSON pointer, when one is.
       */
      field?: string;
    }[];
  };
}

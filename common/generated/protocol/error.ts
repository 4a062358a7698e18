// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.

/**
 * A protocol error about a frame the peer sent: which message type and field, and why.
 */
export interface ErrorMessage {
  /**
   * Protocol version.
   */
  v: 1;
  /**
   * Message type.
   */
  type: "error";
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
     * Catalog code (PROTOCOL_FRAME, AUTH_FORBIDDEN, STORE).
     */
    code: string;
    message: string;
    /**
     * Type of the offending message, when it could be read.
     */
    refType?: string;
    /**
     * Id of the offending message, when it could be read.
     */
    refId?: string;
    /**
     * JSON pointer of the offending field.
     */
    field?: string;
  };
}

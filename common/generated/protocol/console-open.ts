// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.

/**
 * Hub to agent: open a console tunnel. The agent dials a second WebSocket to the hub (its node credential, this tunnel id) and pipes it to the workspace VM's console listener on the node's loopback.
 */
export interface ConsoleOpenMessage {
  /**
   * Protocol version.
   */
  v: 1;
  /**
   * Message type.
   */
  type: "console-open";
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
     * Tunnel id: the agent sends it in the X-Foundry-Tunnel header of its console WebSocket. Not a secret (the node credential authenticates), single use, valid for seconds.
     */
    tunnel: string;
    /**
     * The workspace whose VM console is wanted; the agent finds the domain by its metadata (this node, this workspace).
     */
    workspace: string;
    /**
     * Console protocol: vnc (libvirt's VNC listener on the node's loopback).
     */
    protocol: "vnc";
  };
}

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
     * sync-now: fetch the infra repo and reconcile now; drain: stop accepting new workspaces; ingress-routes: run the ingress (nginx) of a Service on this node with this route table.
     */
    name: "sync-now" | "drain" | "ingress-routes";
    /**
     * With ingress-routes: the settings of the ingress Service (from the infra repo) and its route table (from Git plus what the agents reported).
     */
    ingress?: {
      /**
       * Name of the ingress Service.
       */
      service: string;
      /**
       * Address and port nginx listens on.
       */
      listen: string;
      /**
       * Apps are <app>--<workspace>.<appsDomain>.
       */
      appsDomain: string;
      /**
       * The hub's URL as browsers reach it (login redirects).
       */
      hubPublicUrl: string;
      /**
       * hub: every request authorised by the hub; off: none (benchmarks, closed test networks).
       */
      auth: "hub" | "off";
      /**
       * How long nginx keeps an authorisation decision.
       */
      authCacheSeconds: number;
      /**
       * nginx client_max_body_size (0: no limit).
       */
      maxBodySize: string;
      /**
       * Wildcard certificate and key files on the ingress node; absent: plain HTTP.
       */
      tls?: {
        certificateFile: string;
        keyFile: string;
      };
      /**
       * One entry per routable app (at most 6000: the frame stays under the 1 MiB WebSocket payload limit).
       *
       * @maxItems 6000
       */
      routes: {
        /**
         * <app>--<workspace>.<appsDomain>, lower case.
         */
        host: string;
        workspace: string;
        tenant: string;
        app: string;
        /**
         * address:port on the node's internal network (IPv6 in brackets).
         */
        upstream: string;
      }[];
    };
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

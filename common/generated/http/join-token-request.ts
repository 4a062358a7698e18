// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.

/**
 * Body of POST /api/v1/join-tokens: what the token is for. Every field is optional.
 */
export interface JoinTokenRequest {
  /**
   * How long the token is valid (default 1h, at most 168h).
   */
  ttl?: string;
  /**
   * How many nodes may enroll with it (default 1).
   */
  uses?: number;
  /**
   * Profile of the nodes enrolled with it (default gpu-node).
   */
  profile?: string;
  /**
   * Labels written into each enrolled node's file (keys and values as in the Node kind).
   */
  labels?: {
    [k: string]: string;
  };
  /**
   * Hub URL embedded in the token (default: the hub's public URL).
   */
  hubUrl?: string;
}

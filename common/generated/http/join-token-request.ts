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
   * The one node name the token may enroll. Needed to enroll a node the infra repo already declares (its profile must match too). Default: any name not declared in Git.
   */
  node?: string;
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

/** What the hub answers a node that enrolled: shared by the hub and the node's enrollment client. */

/** The answer to an enrolling node. */
export interface EnrollResult {
  node: string;
  /** The node credential, shown once; the hub keeps only its hash. */
  credential: string;
  /** What the agent's configuration file should say. */
  config: { node: string; repo: { url: string }; hub: { url: string } };
  nodeFile: { path: string; status: 'committed' | 'kept' | 'not-written'; revision: string | null };
}

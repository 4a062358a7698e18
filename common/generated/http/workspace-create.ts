// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.

/**
 * Body of POST /api/v1/workspaces: a workspace for a tenant, placed by the hub and committed to the infra repo.
 */
export interface WorkspaceCreateRequest {
  /**
   * Tenant the workspace belongs to (a Tenant file must exist).
   */
  tenant: string;
  /**
   * WorkspaceTemplate to run (must exist in the infra repo).
   */
  template: string;
  /**
   * GPUs the workspace holds while running.
   */
  gpus: {
    /**
     * Number of GPUs (0 for none).
     */
    count: number;
    /**
     * Required GPU model as nvidia-smi names it; any model when absent.
     */
    model?: string;
  };
  /**
   * Workspace name, unique across the repo (default: <tenant>-<random>).
   */
  name?: string;
  /**
   * Labels of the workspace (metadata.labels).
   */
  labels?: {
    [k: string]: string;
  };
  /**
   * Labels a node must carry to host the workspace (spec.nodeSelector).
   */
  nodeSelector?: {
    [k: string]: string;
  };
  /**
   * running (default) or stopped.
   */
  state?: "running" | "stopped";
}

/**
 * What `place()` answers, on its own so the fleet state (snapshot.ts) can apply a placement without
 * importing the placer that reads it.
 */

/** A decision: the node, the GPUs, and why (first line is a commit subject). */
export interface Placement {
  ok: true;
  workspace: string;
  tenant: string;
  node: string;
  gpuUuids: string[];
  gpuModel: string | undefined;
  cpus: number;
  memoryBytes: number;
  /** True when the workspace already held this placement (nothing new to commit). */
  existing: boolean;
  explanation: string;
}

/** Nothing fits: the reasons, each with how many nodes it ruled out (0 for request-wide reasons like quota). */
export interface NoPlacement {
  ok: false;
  workspace: string;
  tenant: string;
  reasons: Array<{ reason: string; nodes: number }>;
  explanation: string;
}

/**
 * Workspace lifecycle: Pending (no node yet) → Placed (node and GPUs in Git) → Running (the node's agent
 * reports every resource of the workspace Ready) or Failed (the agent reports one Stalled, with its
 * reason); Stopped when spec.state is stopped; Deleted when the file is gone. Derived, level-triggered,
 * from Git and the agents' latest status; never from the request history.
 */
import type { Workspace } from '../../common/infra/model.js';

/** A lifecycle phase. */
export type Phase = 'Pending' | 'Placed' | 'Running' | 'Failed' | 'Stopped' | 'Deleted';

/** The phase with a PascalCase reason and a message. */
export interface Observed {
  phase: Phase;
  reason: string;
  message: string;
  node: string | null;
}

/** The part of a node's status report the lifecycle reads (protocol status body). */
export interface NodeStatusBody {
  resources?: Array<{ id: string; conditions: Array<{ type: string; status: string; reason: string; message?: string }> }>;
}

/** True for the agent's resource ids of workspace `name` that run something (containers and the VM). */
function isWorkload(id: string, name: string): boolean {
  const prefix = `ws.${name}.`;
  if (!id.startsWith(prefix)) return false;
  const rest = id.slice(prefix.length);
  return rest !== 'net' && !rest.startsWith('vol.');
}

/** Derives the phase of a workspace from its Git document and the status its node last reported. */
export function phaseOf(ws: Workspace | undefined, status: NodeStatusBody | undefined): Observed {
  if (ws === undefined) return { phase: 'Deleted', reason: 'RemovedFromGit', message: 'the workspace file is gone from the infra repo', node: null };
  const node = ws.spec.node ?? null;
  if (node === null) return { phase: 'Pending', reason: 'AwaitingPlacement', message: 'no node assigned yet', node };
  if ((ws.spec.state ?? 'running') === 'stopped') return { phase: 'Stopped', reason: 'StoppedInGit', message: 'spec.state is stopped', node };
  const mine = (status?.resources ?? []).filter((r) => isWorkload(r.id, ws.metadata.name));
  for (const r of mine) {
    const stalled = r.conditions.find((c) => c.type === 'Stalled' && c.status === 'True');
    if (stalled !== undefined) return { phase: 'Failed', reason: stalled.reason, message: `${r.id}: ${stalled.message ?? stalled.reason}`, node };
  }
  if (mine.length > 0 && mine.every((r) => r.conditions.some((c) => c.type === 'Ready' && c.status === 'True'))) {
    return { phase: 'Running', reason: 'AgentReportsReady', message: `${node} reports ${mine.length} resource${mine.length === 1 ? '' : 's'} ready`, node };
  }
  return { phase: 'Placed', reason: 'AwaitingAgent', message: `placed on ${node}; waiting for its agent to report it running`, node };
}

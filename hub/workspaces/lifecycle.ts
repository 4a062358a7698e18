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
  resources?: Array<{ id: string; kind?: string; workspace?: string; conditions: Array<{ type: string; status: string; reason: string; message?: string }> }>;
}

/** True for the reported resources of workspace `name` that run something (containers and the VM), from their kind and workspace fields (ids are never parsed). */
function isWorkload(r: { kind?: string; workspace?: string }, name: string): boolean {
  return r.workspace === name && (r.kind === 'container' || r.kind === 'vm');
}

/** Reasons of a workspace gone from Git that its node still runs (looked at again on every refresh). */
export const REMOVAL_PENDING: ReadonlySet<string> = new Set(['PruneRefused', 'AwaitingRemoval']);

/**
 * Derives the phase of a workspace from its Git document and the status its node last reported. A workspace
 * gone from Git (`name`, on `lastNode`) is Deleted once its node no longer reports its containers or VM;
 * until then it is Running (AwaitingRemoval), or Failed (PruneRefused, with the agent's message, which says
 * how to allow it) when the node's mass-prune guard refused the removal.
 */
export function phaseOf(ws: Workspace | undefined, status: NodeStatusBody | undefined, name?: string, lastNode?: string | null): Observed {
  if (ws === undefined) {
    // A resource the agent reports as Pruned in its last run is gone.
    const still = name === undefined ? [] : (status?.resources ?? []).filter((r) => isWorkload(r, name) && !r.conditions.some((c) => c.reason === 'Pruned'));
    const refusal = still.flatMap((r) => r.conditions).find((c) => c.reason === 'PruneRefused');
    const node = lastNode ?? null;
    if (refusal !== undefined) return { phase: 'Failed', reason: 'PruneRefused', message: `removed from the infra repo, but node ${node ?? '?'} keeps it running: ${refusal.message?.replace(/^kept: /, '') ?? 'the mass-prune guard refused the removal'}`, node };
    if (still.length > 0) return { phase: 'Running', reason: 'AwaitingRemoval', message: `removed from the infra repo; node ${node ?? '?'} still runs it until its agent removes it`, node };
    return { phase: 'Deleted', reason: 'RemovedFromGit', message: 'the workspace file is gone from the infra repo', node: null };
  }
  const node = ws.spec.node ?? null;
  if (node === null) return { phase: 'Pending', reason: 'AwaitingPlacement', message: 'no node assigned yet', node };
  if ((ws.spec.state ?? 'running') === 'stopped') return { phase: 'Stopped', reason: 'StoppedInGit', message: 'spec.state is stopped', node };
  const mine = (status?.resources ?? []).filter((r) => isWorkload(r, ws.metadata.name));
  for (const r of mine) {
    const stalled = r.conditions.find((c) => c.type === 'Stalled' && c.status === 'True');
    if (stalled !== undefined) return { phase: 'Failed', reason: stalled.reason, message: `${r.id}: ${stalled.message ?? stalled.reason}`, node };
  }
  if (mine.length > 0 && mine.every((r) => r.conditions.some((c) => c.type === 'Ready' && c.status === 'True'))) {
    return { phase: 'Running', reason: 'AgentReportsReady', message: `${node} reports ${mine.length} resource${mine.length === 1 ? '' : 's'} ready`, node };
  }
  return { phase: 'Placed', reason: 'AwaitingAgent', message: `placed on ${node}; waiting for its agent to report it running`, node };
}

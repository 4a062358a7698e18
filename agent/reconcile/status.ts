/**
 * The agent's status, after Flux: conditions Ready / Reconciling / Stalled with a PascalCase reason,
 * observedRevision and lastAppliedRevision, and one entry per resource with its own phase, reason and
 * message. Written as JSON to <stateDir>/status.json (atomically) after every reconcile.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ActionType, PublishedPort, ResourceKind } from '../desired.js';

/** Phase of one resource. */
export type ResourcePhase = 'Ready' | 'Reconciling' | 'Stalled';

/** What the agent last did or found for one resource. */
export interface ResourceStatus {
  id: string;
  kind: ResourceKind;
  name: string;
  /** The workspace or service the resource belongs to (absent for the profile's baseline). */
  workspace?: string;
  service?: string;
  phase: ResourcePhase;
  /** PascalCase: UpToDate, Created, Recreated, Started, Stopped, Pruned, Retained, ImageMissing, ActionFailed, BackingOff, PruneRefused... */
  reason: string;
  message: string;
  /** The last action planned for it. */
  action: ActionType;
  /** Failures in a row (while retrying). */
  failures?: number;
  /** When the next retry is due (ISO time), while backing off. */
  nextRetryAt?: string;
  /** A running container's published ports: the address and host port the runtime bound. */
  ports?: PublishedPort[];
}

/**
 * A condition of the whole agent: Ready, Reconciling, Stalled from the run; runtime conditions such as
 * PodmanCapabilities from the drivers that report them.
 */
export interface Condition {
  type: 'Ready' | 'Reconciling' | 'Stalled' | (string & Record<never, never>);
  status: 'True' | 'False';
  reason: string;
  message: string;
}

/** An error of one step of the runbook. */
export interface StepError {
  step: string;
  code: string;
  message: string;
  resource?: string;
}

/** Everything status.json holds. */
export interface AgentStatus {
  node: string;
  /** Revision the last fetch returned. */
  observedRevision: string | undefined;
  /** Last revision fully applied (every action succeeded). */
  lastAppliedRevision: string | undefined;
  /** Revision whose desired state the last run converged towards (the last good one when a newer one was refused). */
  desiredRevision: string | undefined;
  /** Set when the newest revision was refused (or could not be fetched) and the node runs from the last good one. */
  runningFromLastGood?: FallbackInfo;
  conditions: Condition[];
  resources: ResourceStatus[];
  errors: StepError[];
  /** Infra-repo problems of the observed revision, as file:line:column: field: message. */
  issues: string[];
  lastReconcile: {
    trigger: string;
    startedAt: string;
    finishedAt: string;
    durationMs: number;
    converged: boolean;
    counts: Record<ActionType, number> | undefined;
  };
}

/** Running from the last good revision: which, whether it was restored from the state dir after a restart, and why. */
export interface FallbackInfo {
  revision: string;
  restored: boolean;
  reason: string;
}

/** Builds the three conditions from the outcome of a run; the Ready message says when the node runs from the last good revision. */
export function conditionsFor(outcome: { converged: boolean; errors: StepError[]; resources: ResourceStatus[]; desiredRevision: string | undefined; fallback?: FallbackInfo | undefined }): Condition[] {
  const fb = outcome.fallback;
  const running = fb === undefined ? '' : `; running from the last good revision ${fb.revision.slice(0, 12)}${fb.restored ? ' (restored from the state dir after a restart)' : ''}`;
  const stalledRes = outcome.resources.filter((r) => r.phase === 'Stalled');
  const retrying = outcome.resources.filter((r) => r.phase === 'Reconciling');
  const first = outcome.errors[0];
  const ready: Condition = outcome.converged
    ? { type: 'Ready', status: 'True', reason: 'ReconciliationSucceeded', message: `applied revision ${outcome.desiredRevision ?? 'unknown'}` }
    : first !== undefined
      ? { type: 'Ready', status: 'False', reason: reasonOfCode(first.code), message: `${first.message}${running}` }
      : { type: 'Ready', status: 'False', reason: 'ProgressingWithRetry', message: `${stalledRes.length + retrying.length} resources not ready` };
  const stalled: Condition =
    stalledRes.length > 0 || outcome.errors.some((e) => e.code !== 'RUNTIME_UNAVAILABLE' && e.code !== 'GIT_FETCH')
      ? { type: 'Stalled', status: 'True', reason: first !== undefined ? reasonOfCode(first.code) : (stalledRes[0]?.reason ?? 'Stalled'), message: first?.message ?? stalledRes[0]?.message ?? '' }
      : { type: 'Stalled', status: 'False', reason: 'NotStalled', message: '' };
  const reconciling: Condition =
    retrying.length > 0 || outcome.errors.some((e) => e.code === 'RUNTIME_UNAVAILABLE' || e.code === 'GIT_FETCH')
      ? { type: 'Reconciling', status: 'True', reason: 'ProgressingWithRetry', message: `${retrying.length} resources will be retried` }
      : { type: 'Reconciling', status: 'False', reason: 'Idle', message: '' };
  return [ready, reconciling, stalled];
}

const CODE_REASONS: Record<string, string> = {
  GIT_FETCH: 'FetchFailed',
  GIT_REVISION: 'FetchFailed',
  GIT_SIGNATURE: 'SignatureRejected',
  NODE_UNKNOWN: 'NodeUnknown',
  PRUNE_REFUSED: 'PruneRefused',
  RUNTIME_UNAVAILABLE: 'RuntimeUnavailable',
  RUNTIME_ACTION: 'ActionFailed',
  IMAGE_MISSING: 'ImageMissing',
};

/** PascalCase reason of an error code (INFRA_* codes are all ValidationFailed). */
export function reasonOfCode(code: string): string {
  if (code.startsWith('INFRA_')) return 'ValidationFailed';
  return CODE_REASONS[code] ?? code.toLowerCase().replace(/(^|_)([a-z])/g, (_m, _s, c: string) => c.toUpperCase());
}

/** Path of the status file in `stateDir`. */
export function statusPath(stateDir: string): string {
  return join(stateDir, 'status.json');
}

/** Writes the status atomically (temp file + rename), so readers never see half a file. */
export async function writeStatus(stateDir: string, status: AgentStatus): Promise<void> {
  await mkdir(stateDir, { recursive: true });
  const file = statusPath(stateDir);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(status, null, 2)}\n`);
  await rename(tmp, file);
}

/** Reads the last status, or undefined when there is none (first start) or it is unreadable. */
export async function readStatus(stateDir: string): Promise<AgentStatus | undefined> {
  try {
    return JSON.parse(await readFile(statusPath(stateDir), 'utf8')) as AgentStatus;
  } catch {
    return undefined;
  }
}

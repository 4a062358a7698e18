/**
 * What the steps of one reconcile share: the agent's collaborators, its memory across runs (last good
 * revision, back-off) and what this run has found so far.
 */
import type { Logger } from 'pino';
import { FoundryError, errorMessage, isFoundryError } from '../../common/errors.js';
import type { InfraRepo } from '../../common/infra/model.js';
import type { DesiredState, ObservedResource } from '../desired.js';
import type { RuntimeDriver } from '../drivers/driver.js';
import type { PlanResult } from '../plan.js';
import type { FetchedRevision, RevisionSource } from '../source/revision-source.js';
import type { SignaturePolicy } from '../source/verify-signature.js';
import type { SecretResolvers } from '../secrets/resolver.js';
import type { AgentMetricsSink } from '../metrics/metrics-sink.js';
import type { Backoff } from './backoff.js';
import type { LastGood } from './last-good.js';
import type { AgentStatus, ResourceStatus, StepError } from './status.js';

/** The collaborators of the reconciler (one composition root builds them; tests pass their own). */
export interface ReconcilerDeps {
  node: string;
  source: RevisionSource;
  drivers: RuntimeDriver[];
  stateDir: string;
  /** Commit-signature policy; undefined when verification is off. */
  verify: SignaturePolicy | undefined;
  logger: Logger;
  /** Loads and validates a fetched folder (default: loadInfraDir). */
  loadRepo: (dir: string, revision: string) => Promise<InfraRepo>;
  now: () => number;
  /** Actions of one phase applied at a time (default 4; 1 applies strictly one by one). */
  applyConcurrency?: number;
  /** Where secret values come from, and the node-local key of their digests; absent: containers with secrets are held. */
  secrets?: { resolvers: SecretResolvers; digestKey: () => Promise<Buffer> };
  /** The agent's metrics (absent when the metrics endpoint is off). */
  metrics?: AgentMetricsSink;
  /** Told after every run (the hub link forwards the status); a throw is logged, never fatal. */
  onResult?: (result: { converged: boolean; status: AgentStatus }) => void;
}

/** What the agent remembers between runs: in memory, and the last good revision also in <stateDir>/last-good.json (last-good.ts). */
export interface AgentMemory {
  lastGood: LastGood | undefined;
  lastAppliedRevision: string | undefined;
  backoff: Backoff;
}

/** One run. */
export interface RunContext {
  deps: ReconcilerDeps;
  memory: AgentMemory;
  trigger: string;
  ignoreBackoff: boolean;
  startedAt: number;
  fetched: FetchedRevision | undefined;
  candidate: InfraRepo | undefined;
  /** Set when the fetched revision was refused (fetch, signature, validation or render failed). */
  rejected: boolean;
  /** Converging towards the last good revision because the newest one was refused. */
  usingFallback: boolean;
  desired: DesiredState | undefined;
  observed: ObservedResource[];
  /** Kinds whose driver could not list (their resources are neither created nor pruned this run). */
  /** Routing keys (runtimeKeyOf) whose runtime could not be listed this run. */
  unavailableKinds: Set<string>;
  plan: PlanResult | undefined;
  resources: Map<string, ResourceStatus>;
  errors: StepError[];
  issues: string[];
  /** Secret values of this run by runtime secret name: in memory only, handed to the runtime at create. */
  secretValues: Map<string, Uint8Array>;
  /** Containers whose secrets could not be read (resource key → why): what runs keeps running. */
  secretHolds: Map<string, string>;
  /** The revision the node had converged to when this run started (drift: anything to do at that same revision). */
  appliedAtStart: string | undefined;
  /** Resources still not converged after apply (failed, backing off, or left over on re-check). */
  pending: number;
  converged: boolean;
}

/** Thrown by a step to end the run after it has recorded why (the final status step still runs). */
export class StopRun extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'StopRun';
  }
}

/** Records a step error from anything thrown. */
export function recordError(ctx: RunContext, step: string, err: unknown): StepError {
  const e: StepError = isFoundryError(err)
    ? { step, code: err.code, message: err.message, ...(err.resource !== undefined ? { resource: err.resource } : {}) }
    : { step, code: 'INTERNAL', message: errorMessage(err) };
  ctx.errors.push(e);
  return e;
}

/** Marks the fetched revision as refused; steps after it fall back to the last good revision. */
export function reject(ctx: RunContext, step: string, err: unknown): void {
  if (!(err instanceof FoundryError)) throw err;
  const e = recordError(ctx, step, err);
  ctx.rejected = true;
  ctx.deps.logger.warn({ event: 'revision-refused', step, code: e.code, revision: ctx.fetched?.revision, resource: e.resource }, e.message);
}

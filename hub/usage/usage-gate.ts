/**
 * The hub's usage admission gate around the pure `admitUsage`: decodes the record against the schema of
 * its kind, looks up the node (enrollment time, declared GPU models) and the placement history, and
 * answers admitted or refused with a reason. A refusal that depends on placements is only final once
 * the history has been read after the record arrived (a placement committed a moment ago is not missed);
 * with an external repo that read starts with a fetch of the hub's clone (PlacementHistory's beforeRead).
 */
import { decodeUsageRecord } from '../../common/protocol/codec.js';
import { admitUsage, DEFAULT_ADMISSION_LIMITS, type Admission, type AdmissionLimits, type NodeInfo } from './admission.js';
import type { PlacementHistory } from './placement-history.js';
import type { UsageRepo } from '../store/usage-repo.js';

/** Refusals that a newer placement history could turn into an admission. */
const HISTORY_REASONS = new Set(['unknown-workspace', 'not-placed-on-node', 'wrong-tenant', 'workspace-stopped', 'gpu-not-assigned', 'exceeds-template', 'gpu-model-mismatch']);

/** Collaborators of the gate. */
export interface UsageGateDeps {
  history: PlacementHistory;
  /** The hub store's usage repository (a node's enrollment time). */
  usage: Pick<UsageRepo, 'enrolledAt'>;
  /** Hub clock, epoch ms. */
  now?: () => number;
  limits?: AdmissionLimits;
}

/** Admits or refuses usage records of authenticated nodes. */
export class UsageGate {
  private readonly now: () => number;

  constructor(private readonly deps: UsageGateDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** The node as the gate sees it (undefined: not enrolled). */
  async nodeInfo(node: string): Promise<NodeInfo | undefined> {
    const created = await this.deps.usage.enrolledAt(node);
    if (created === undefined) return undefined;
    return { name: node, enrolledAt: Date.parse(created), gpuModels: this.deps.history.gpuModels(node) };
  }

  /** Decides on one record sent by `node` (async: may read new commits first; rejects when Git cannot be read). */
  async admit(node: string, record: unknown): Promise<Admission> {
    const arrived = this.now();
    const d = decodeUsageRecord(record);
    if (!d.ok) return d.error.field === undefined ? { ok: false, reason: 'malformed', message: d.error.message } : { ok: false, reason: 'malformed', message: d.error.message, field: d.error.field };
    const info = await this.nodeInfo(node);
    if (info === undefined) return { ok: false, reason: 'wrong-node', message: `node ${node} is not enrolled` };
    const { history } = this.deps;
    // a refresh under way (the one at start, after a push) may hold what this record needs
    if (history.startedAt === -Infinity) await history.freshSince(arrived);
    else await history.settled();
    const limits = this.deps.limits ?? DEFAULT_ADMISSION_LIMITS;
    let a = admitUsage(d.record, history, info, this.now(), limits);
    if (!a.ok && HISTORY_REASONS.has(a.reason) && history.startedAt < arrived) {
      await history.freshSince(arrived);
      a = admitUsage(d.record, history, (await this.nodeInfo(node)) ?? info, this.now(), limits);
    }
    return a;
  }
}

/**
 * The hub's usage admission gate around the pure `admitUsage`: decodes the record against the schema of
 * its kind, looks up the node (enrollment time, declared GPU models) and the placement history, and
 * answers admitted or refused with a reason. A refusal that depends on placements is only final once
 * the history has been read after the record arrived (a placement committed a moment ago is not missed);
 * with an external repo that read starts with a fetch of the hub's clone (PlacementHistory's beforeRead).
 */
import type Database from 'better-sqlite3';
import { decodeUsageRecord } from '../../common/protocol/codec.js';
import { admitUsage, DEFAULT_ADMISSION_LIMITS, type Admission, type AdmissionLimits, type NodeInfo } from './admission.js';
import type { PlacementHistory } from './placement-history.js';

/** Refusals that a newer placement history could turn into an admission. */
const HISTORY_REASONS = new Set(['unknown-workspace', 'not-placed-on-node', 'wrong-tenant', 'workspace-stopped', 'gpu-not-assigned', 'exceeds-template', 'gpu-model-mismatch']);

/** Collaborators of the gate. */
export interface UsageGateDeps {
  history: PlacementHistory;
  /** The hub store's database (nodes.created_at is the enrollment time). */
  db: Database.Database;
  /** Hub clock, epoch ms. */
  now?: () => number;
  limits?: AdmissionLimits;
}

/** Admits or refuses usage records of authenticated nodes. */
export class UsageGate {
  private readonly now: () => number;
  private readonly enrolled;

  constructor(private readonly deps: UsageGateDeps) {
    this.now = deps.now ?? Date.now;
    this.enrolled = deps.db.prepare('SELECT created_at FROM nodes WHERE name = ?').pluck();
  }

  /** The node as the gate sees it (undefined: not enrolled). */
  nodeInfo(node: string): NodeInfo | undefined {
    const created = this.enrolled.get(node) as string | undefined;
    if (created === undefined) return undefined;
    return { name: node, enrolledAt: Date.parse(created), gpuModels: this.deps.history.gpuModels(node) };
  }

  /** Decides on one record sent by `node` (async: may read new commits first; rejects when Git cannot be read). */
  async admit(node: string, record: unknown): Promise<Admission> {
    const arrived = this.now();
    const d = decodeUsageRecord(record);
    if (!d.ok) return d.error.field === undefined ? { ok: false, reason: 'malformed', message: d.error.message } : { ok: false, reason: 'malformed', message: d.error.message, field: d.error.field };
    const info = this.nodeInfo(node);
    if (info === undefined) return { ok: false, reason: 'wrong-node', message: `node ${node} is not enrolled` };
    const { history } = this.deps;
    // a refresh under way (the one at start, after a push) may hold what this record needs
    if (history.startedAt === -Infinity) await history.freshSince(arrived);
    else await history.settled();
    const limits = this.deps.limits ?? DEFAULT_ADMISSION_LIMITS;
    let a = admitUsage(d.record, history, info, this.now(), limits);
    if (!a.ok && HISTORY_REASONS.has(a.reason) && history.startedAt < arrived) {
      await history.freshSince(arrived);
      a = admitUsage(d.record, history, this.nodeInfo(node) ?? info, this.now(), limits);
    }
    return a;
  }
}

/**
 * The usage admission gate, pure: a usage record from a node is admitted only when the node could have
 * measured it. Its interval is well-formed and lies after the node enrolled and not in the future; the
 * workspace, tenant and GPU were placed on that node (Git history of placements) for the whole interval;
 * its quantities stay within what the workspace's template declares. Everything else is refused with a
 * reason code; refused records are never billed. Checks run from the cheapest to the most specific, so
 * the reason is the first thing wrong.
 */
import type { UsageRecordWire } from '../../common/protocol/codec.js';

/** What a workspace holds besides GPUs, as its template declares it (upper bounds for resource records). */
export interface TemplateLimits {
  milliVcpus: number;
  memoryBytes: number;
  storageBytes: number;
}

/** One stretch of the Git history during which a workspace had the same placement. Instants in epoch ms. */
export interface PlacementSpan {
  workspace: string;
  tenant: string;
  /** Node it was placed on (undefined: not placed). */
  node: string | undefined;
  gpuUuids: readonly string[];
  /** state: running (false: stopped). */
  running: boolean;
  limits: TemplateLimits;
  /** Commit time of the revision that started it (inclusive). */
  from: number;
  /** Commit time of the revision that ended it (exclusive); null while it still holds. */
  to: number | null;
}

/** Read-only view of the placement history. */
export interface PlacementLookup {
  /** Every span of a workspace, oldest first (empty: Git never had it). */
  spans(workspace: string): readonly PlacementSpan[];
}

/** What the hub knows about the sending node. */
export interface NodeInfo {
  name: string;
  /** When the node enrolled (its credential was first issued), epoch ms. */
  enrolledAt: number;
  /** GPU models the Node file declares, by UUID (a declared model must match the record's). */
  gpuModels?: ReadonlyMap<string, string>;
}

/** Tolerances of the gate, in ms. */
export interface AdmissionLimits {
  /** Clocks of node and hub may differ by this much (records may end this far ahead of now). */
  clockSkewMs: number;
  /** After a placement ends in Git, the node may run it this long (until its next sync). */
  syncGraceMs: number;
  /** Longest single record: the emitter cuts records at every tick, so a longer one was not measured. */
  maxRecordMs: number;
}

/** Default tolerances: 2 min of clock skew, 5 min for a node to follow Git, records of at most 1 h. */
export const DEFAULT_ADMISSION_LIMITS: AdmissionLimits = { clockSkewMs: 120_000, syncGraceMs: 300_000, maxRecordMs: 3_600_000 };

/** Why a record was refused. `malformed` is decided by the decoder (schema), the rest here. */
export const REFUSAL_REASONS = [
  'malformed', 'wrong-node', 'bad-interval', 'too-long', 'before-enrollment', 'in-future', 'unknown-workspace',
  'not-placed-on-node', 'wrong-tenant', 'workspace-stopped', 'gpu-not-assigned', 'gpu-model-mismatch', 'exceeds-template',
] as const;
/** A refusal reason code. */
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** Outcome of the gate. */
export type Admission = { ok: true } | { ok: false; reason: RefusalReason; message: string; field?: string };

const refuse = (reason: RefusalReason, message: string, field?: string): Admission => (field === undefined ? { ok: false, reason, message } : { ok: false, reason, message, field });

/** True when the union of `[from, to)` pieces covers `[from, to)` of the record. */
function covers(pieces: Array<[number, number]>, from: number, to: number): boolean {
  let reached = from;
  for (const [a, b] of pieces.sort((x, y) => x[0] - y[0])) {
    if (a > reached) break;
    reached = Math.max(reached, b);
    if (reached >= to) return true;
  }
  return reached >= to;
}

/** Does the record's interval lie within the spans that pass `keep` (each widened by skew before and grace after)? */
function placedThroughout(spans: readonly PlacementSpan[], rec: UsageRecordWire, limits: AdmissionLimits, keep: (s: PlacementSpan) => boolean): boolean {
  const pieces = spans.filter(keep).map((s): [number, number] => [s.from - limits.clockSkewMs, s.to === null ? Infinity : s.to + limits.syncGraceMs]);
  return covers(pieces, rec.from, rec.to);
}

function checkInterval(rec: UsageRecordWire, node: NodeInfo, now: number, limits: AdmissionLimits): Admission | undefined {
  if (rec.to <= rec.from) return refuse('bad-interval', `interval ends at or before it starts (${rec.from} >= ${rec.to})`, '/body/record/to');
  if (rec.from % 1000 !== 0 || rec.to % 1000 !== 0) return refuse('bad-interval', 'interval must start and end on whole seconds (the slot rule)', '/body/record/from');
  if (rec.seconds * 1000 !== rec.to - rec.from) return refuse('bad-interval', `seconds ${rec.seconds} do not match the interval (${(rec.to - rec.from) / 1000} s)`, '/body/record/seconds');
  if (Date.parse(rec.fromIso) !== rec.from || Date.parse(rec.toIso) !== rec.to) return refuse('bad-interval', 'fromIso/toIso do not name the same instants as from/to', '/body/record/fromIso');
  if (rec.to - rec.from > limits.maxRecordMs) return refuse('too-long', `one record spans ${(rec.to - rec.from) / 1000} s; at most ${limits.maxRecordMs / 1000} s are measured in one record`, '/body/record/to');
  if (rec.from < node.enrolledAt - limits.clockSkewMs) return refuse('before-enrollment', `interval starts ${new Date(rec.from).toISOString()}, before node ${node.name} enrolled (${new Date(node.enrolledAt).toISOString()})`, '/body/record/from');
  if (rec.to > now + limits.clockSkewMs) return refuse('in-future', `interval ends ${new Date(rec.to).toISOString()}, in the future (hub time ${new Date(now).toISOString()})`, '/body/record/to');
  return undefined;
}

const QUANTITIES = ['milliVcpus', 'memoryBytes', 'storageBytes'] as const;

/** The first quantity of a resource record above the span's template limits (undefined: none, or a GPU record). */
function checkQuantities(rec: UsageRecordWire, s: PlacementSpan): { field: (typeof QUANTITIES)[number]; value: number; limit: number } | undefined {
  if (rec.kind === 'gpu-allocation') return undefined;
  const field = QUANTITIES.find((q) => rec[q] > s.limits[q]);
  return field === undefined ? undefined : { field, value: rec[field], limit: s.limits[field] };
}

/**
 * Admits or refuses one decoded usage record sent by `node` at hub time `now` (epoch ms), against the
 * placement history. Pure: same inputs, same answer.
 */
export function admitUsage(rec: UsageRecordWire, history: PlacementLookup, node: NodeInfo, now: number, limits: AdmissionLimits = DEFAULT_ADMISSION_LIMITS): Admission {
  if (rec.node !== node.name) return refuse('wrong-node', `record is for node ${rec.node}, but the credential belongs to ${node.name}`, '/body/record/node');
  const bad = checkInterval(rec, node, now, limits);
  if (bad !== undefined) return bad;
  const what = `workspace ${rec.workspace} on node ${node.name} from ${rec.fromIso} to ${rec.toIso}`;
  const spans = history.spans(rec.workspace);
  if (spans.length === 0) return refuse('unknown-workspace', `workspace ${rec.workspace} was never declared in the infra repo`, '/body/record/workspace');
  const steps: Array<{ keep: (s: PlacementSpan) => boolean; reason: RefusalReason; message: string; field: string }> = [
    { keep: (s) => s.node === node.name, reason: 'not-placed-on-node', message: `${what}: not placed on this node then`, field: '/body/record/workspace' },
    { keep: (s) => s.tenant === rec.tenant, reason: 'wrong-tenant', message: `${what}: belonged to another tenant than ${rec.tenant}`, field: '/body/record/tenant' },
    { keep: (s) => s.running, reason: 'workspace-stopped', message: `${what}: stopped in the infra repo then`, field: '/body/record/workspace' },
  ];
  if (rec.kind === 'gpu-allocation') {
    steps.push({ keep: (s) => s.gpuUuids.includes(rec.gpuUuid), reason: 'gpu-not-assigned', message: `${what}: GPU ${rec.gpuUuid} was not assigned to it`, field: '/body/record/gpuUuid' });
  } else {
    steps.push({ keep: (s) => checkQuantities(rec, s) === undefined, reason: 'exceeds-template', message: `${what}: holds more than its template declares`, field: '/body/record' });
  }
  const kept: Array<(s: PlacementSpan) => boolean> = [];
  for (const step of steps) {
    kept.push(step.keep);
    if (!placedThroughout(spans, rec, limits, (s) => kept.every((k) => k(s)))) {
      if (step.reason !== 'exceeds-template') return refuse(step.reason, step.message, step.field);
      const over = spans.filter((s) => s.node === node.name && s.tenant === rec.tenant).map((s) => checkQuantities(rec, s)).find((f) => f !== undefined);
      const detail = over === undefined ? 'more than its template declares' : `${over.field} ${over.value} exceeds the ${over.limit} its template declares`;
      return refuse(step.reason, `${what}: ${detail}`, over === undefined ? '/body/record' : `/body/record/${over.field}`);
    }
  }
  if (rec.kind === 'gpu-allocation') {
    const declared = node.gpuModels?.get(rec.gpuUuid);
    if (declared !== undefined && rec.gpuModel !== null && rec.gpuModel !== declared) {
      return refuse('gpu-model-mismatch', `GPU ${rec.gpuUuid} is declared as ${declared}, not ${rec.gpuModel}`, '/body/record/gpuModel');
    }
  }
  return { ok: true };
}

/**
 * What a stored usage record must look like to be rated. The gateway stores what agents send verbatim,
 * and rows may predate today's ingestion checks or be written by hand, so invoicing checks every row
 * again: a record that fails is excluded from the amount, counted and reported (never thrown, never
 * silently skipped). Pure. The limits are generous bounds on what one node can measure, not business rules.
 */

const DAY_MS = 86_400_000;

/** Bounds a ratable record stays within (documented in docs/billing.md). */
export const RATING_LIMITS = {
  /** The longest one record may be: 31 days (agents send 10 s slots, joined at most up to a flush). */
  maxRecordMs: 31 * DAY_MS,
  /** No record starts before 2020-01-01T00:00:00Z (a node clock that was never set reads 1970). */
  minFromMs: Date.UTC(2020, 0, 1),
  /** A record ending more than 5 minutes after it arrived describes time that had not happened yet. */
  futureSkewMs: 5 * 60_000,
  /** Per record: 1,024 vCPUs, 16 TiB of memory, 1 PiB of storage. */
  maxMilliVcpus: 1_024_000,
  maxMemoryBytes: 16 * 2 ** 40,
  maxStorageBytes: 2 ** 50,
} as const;

/** The fields of a record that passed the checks. */
export interface CheckedRecord {
  kind: 'gpu' | 'resources';
  workspace: string;
  tenant: string;
  from: number;
  to: number;
  receivedAt: number;
  gpuUuid?: string;
  gpuModel?: string;
  utilization?: number;
  milliVcpus?: number;
  memoryBytes?: number;
  storageBytes?: number;
}

/** The verdict on one stored record. */
export type RecordCheck = { ok: true; record: CheckedRecord } | { ok: false; reason: string };

type Fields = Record<string, unknown>;

// a name: 1..253 characters, none of them a control character
const isName = (v: string): boolean => v.length > 0 && v.length <= 253 && [...v].every((c) => c.charCodeAt(0) >= 0x20);
const text = (v: unknown): string | undefined => (typeof v === 'string' && isName(v) ? v : undefined);
const whole = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined);

function quantity(f: Fields, field: string, max: number): number | string | undefined {
  const v = f[field];
  if (v === undefined || v === null) return undefined;
  const n = whole(v);
  if (n === undefined || n < 0 || n > max) return `${field} ${JSON.stringify(v)} is not a whole number in 0..${max}`;
  return n;
}

/** Checks one stored row (payload as stored, receivedAt as the hub wrote it); the reason names the field. */
export function checkStoredRecord(payload: unknown, receivedAtIso: string): RecordCheck {
  const bad = (reason: string): RecordCheck => ({ ok: false, reason });
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return bad('payload is not an object');
  const f = payload as Fields;
  const receivedAt = Date.parse(receivedAtIso);
  if (!Number.isFinite(receivedAt)) return bad(`received_at ${JSON.stringify(receivedAtIso)} is not an instant`);
  const workspace = text(f.workspace);
  const tenant = text(f.tenant);
  if (workspace === undefined) return bad('workspace is missing or not a name');
  if (tenant === undefined) return bad('tenant is missing or not a name');
  // wire format: from/to in epoch ms (fromMs/toMs in the first drafts of the record)
  const from = whole(f.from ?? f.fromMs);
  const to = whole(f.to ?? f.toMs);
  if (from === undefined || to === undefined) return bad('from and to must be whole epoch milliseconds');
  if (to < from) return bad(`ends before it starts (${from} > ${to})`);
  if (to - from > RATING_LIMITS.maxRecordMs) return bad(`spans ${Math.round((to - from) / DAY_MS)} days: one record may span at most 31 days`);
  if (from < RATING_LIMITS.minFromMs) return bad(`starts at ${iso(from)}, before 2020-01-01: the node's clock was not set`);
  if (to > receivedAt + RATING_LIMITS.futureSkewMs) return bad(`ends at ${iso(to)}, after it arrived (${receivedAtIso}): time not yet measured`);
  const base = { workspace, tenant, from, to, receivedAt };
  if (f.kind === 'resource-allocation') {
    const q = { milliVcpus: quantity(f, 'milliVcpus', RATING_LIMITS.maxMilliVcpus), memoryBytes: quantity(f, 'memoryBytes', RATING_LIMITS.maxMemoryBytes), storageBytes: quantity(f, 'storageBytes', RATING_LIMITS.maxStorageBytes) };
    for (const v of Object.values(q)) if (typeof v === 'string') return bad(v);
    return { ok: true, record: { kind: 'resources', ...base, ...(q as Record<string, number | undefined>) } };
  }
  const gpuUuid = text(f.gpuUuid);
  if (gpuUuid === undefined) return bad('gpuUuid is missing or not a name');
  if (f.gpuModel !== undefined && f.gpuModel !== null && typeof f.gpuModel !== 'string') return bad('gpuModel is not a string');
  const record: CheckedRecord = { kind: 'gpu', ...base, gpuUuid };
  if (typeof f.gpuModel === 'string' && f.gpuModel !== '') record.gpuModel = f.gpuModel;
  // measured utilization is shown, never billed: a value out of range is dropped, the record stays
  const util = f.measuredAvgUtilizationPct;
  if (typeof util === 'number' && Number.isFinite(util) && util >= 0 && util <= 100) record.utilization = util;
  return { ok: true, record };
}

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

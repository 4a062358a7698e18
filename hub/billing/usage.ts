/**
 * What billing rates: usage intervals, and the UTC calendar helpers the rating needs.
 *
 * Adapter: the agent's usage records (protocol `usage` body.record, stored verbatim by the hub) carry
 * { workspace, tenant, node, gpuUuid, gpuModel, from, to } with epoch-ms instants; intervalFromRecord()
 * maps one to a UsageInterval, with `receivedAt` the instant the hub stored it (needed only for closed
 * months) and `utilization` from measuredAvgUtilizationPct. Records of kind resource-allocation carry
 * { workspace, tenant, node, milliVcpus, memoryBytes, storageBytes, from, to }; resourceIntervalsFromRecord()
 * maps one to a ResourceInterval per resource it holds.
 */
import { FoundryError } from '../../common/errors.js';
import type { GpuAllocationRecord } from '../../common/generated/protocol/usage-record-gpu-allocation.js';

/** One stretch of time during which a workspace held one GPU while running. Instants are epoch ms, UTC. */
export interface UsageInterval {
  /** Workspace id, unique across tenants (e.g. "acme/alice" or the workspace's metadata.name). */
  workspace: string;
  tenant: string;
  /** Node the GPU is on (informative: the GPU UUID identifies the device). */
  node: string;
  gpuUuid: string;
  /** Model as nvidia-smi names it; must match a key of the price list's gpuHour. '' = unknown: rated as an unpriced line. */
  gpuModel: string;
  /** Start, epoch ms (inclusive). */
  from: number;
  /** End, epoch ms (exclusive). */
  to: number;
  /** Measured mean GPU utilization over the interval, percent 0..100. Shown, never billed. */
  utilization?: number;
  /** When the hub received the record, epoch ms; used to decide lateness for closed months. */
  receivedAt?: number;
  /**
   * Late pieces, decided when the record arrived: used month → invoice month, for each month that was
   * closed at arrival (the hub persists it). When set, it alone decides lateness (see sessions.ts lateTarget).
   */
  lateTo?: Readonly<Record<string, string>>;
}

/** An interval in whole epoch seconds, [from, to). */
export interface Span {
  from: number;
  to: number;
}

/** Epoch ms → whole epoch seconds, truncated (floor). Both ends of an interval are floored so back-to-back records stay back-to-back. */
export function toSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

const MONTH_RE = /^([0-9]{4})-(0[1-9]|1[0-2])$/;

/** "2026-02" → epoch seconds of 2026-02-01T00:00:00Z. */
export function monthStart(month: string): number {
  const m = MONTH_RE.exec(month);
  if (m === null) throw new FoundryError('BILLING', `invalid month "${month}": expected YYYY-MM`, { resource: month });
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, 1) / 1000;
}

/** The month after: "2026-12" → "2027-01". */
export function nextMonth(month: string): string {
  return monthOf(monthEnd(month));
}

/** Epoch seconds of the first instant after the month (the next month's start). */
export function monthEnd(month: string): number {
  const start = new Date(monthStart(month) * 1000);
  return Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1) / 1000;
}

/** A UTC month and its bounds in epoch seconds, [start, end). */
export interface MonthRange {
  month: string;
  start: number;
  end: number;
}

// Rating asks for the same month over and over: keep the last answer (pure: same input, same output).
let lastRange: MonthRange = { month: '', start: 0, end: -1 };

/** The UTC month an epoch second falls in, with its bounds. */
export function monthRangeOf(sec: number): MonthRange {
  if (sec >= lastRange.start && sec < lastRange.end) return lastRange;
  const d = new Date(sec * 1000);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  lastRange = { month: `${y.toString().padStart(4, '0')}-${(m + 1).toString().padStart(2, '0')}`, start: Date.UTC(y, m, 1) / 1000, end: Date.UTC(y, m + 1, 1) / 1000 };
  return lastRange;
}

/** The UTC month an epoch second falls in, "YYYY-MM". */
export function monthOf(sec: number): string {
  return monthRangeOf(sec).month;
}

/** Cuts [from, to) at every UTC month boundary: one piece per month it touches. */
export function splitByMonth(span: Span): Array<Span & { month: string }> {
  const first = monthRangeOf(span.from);
  if (span.to <= first.end) return [{ from: span.from, to: span.to, month: first.month }];
  const out: Array<Span & { month: string }> = [];
  let from = span.from;
  while (from < span.to) {
    const r = monthRangeOf(from);
    const to = Math.min(span.to, r.end);
    out.push({ from, to, month: r.month });
    from = to;
  }
  return out;
}

/** Epoch seconds → "2026-02-01T00:00:00Z". */
export function isoSecond(sec: number): string {
  return new Date(sec * 1000).toISOString().replace('.000Z', 'Z');
}

/** Checks one interval's fields; throws BILLING naming the workspace when it cannot be rated. */
export function checkInterval(iv: UsageInterval): void {
  let why: string | undefined;
  if (!Number.isFinite(iv.from) || !Number.isFinite(iv.to)) why = 'from and to must be epoch milliseconds';
  else if (iv.to < iv.from) why = `ends before it starts (${iv.from} > ${iv.to})`;
  else if (iv.workspace === '' || iv.tenant === '' || iv.gpuUuid === '') why = 'workspace, tenant and gpuUuid are required';
  if (why !== undefined) throw new FoundryError('BILLING', `usage of workspace ${iv.workspace} on ${iv.gpuUuid}: ${why}`, { resource: iv.workspace });
}

/** The fields billing reads from an agent usage record (schemas/protocol/usage-record-gpu-allocation.schema.json). */
export type AgentUsageRecordFields = Pick<GpuAllocationRecord, 'node' | 'workspace' | 'tenant' | 'gpuUuid' | 'gpuModel' | 'from' | 'to'> & Partial<Pick<GpuAllocationRecord, 'measuredAvgUtilizationPct'>>;

/** Maps a stored agent usage record to a UsageInterval; a record without a GPU model is refused (BILLING), never billed as free. */
export function intervalFromRecord(rec: AgentUsageRecordFields, receivedAt?: number): UsageInterval {
  if (rec.gpuModel === null || rec.gpuModel === '') {
    throw new FoundryError('BILLING', `usage of workspace ${rec.workspace} on ${rec.gpuUuid} (node ${rec.node}): gpu model unknown, cannot be priced`, { resource: rec.workspace });
  }
  const iv: UsageInterval = { workspace: rec.workspace, tenant: rec.tenant, node: rec.node, gpuUuid: rec.gpuUuid, gpuModel: rec.gpuModel, from: rec.from, to: rec.to };
  if (rec.measuredAvgUtilizationPct !== undefined && rec.measuredAvgUtilizationPct !== null) iv.utilization = rec.measuredAvgUtilizationPct;
  if (receivedAt !== undefined) iv.receivedAt = receivedAt;
  return iv;
}

/** A non-GPU resource a running workspace holds and may be billed for (PriceList vcpuHour, memoryGiBHour, storageGiBMonth). */
export type HeldResource = 'vcpu' | 'memory' | 'storage';

/**
 * One stretch of time during which a running workspace held `quantity` of one resource on one node:
 * milli-vCPUs for vcpu, bytes for memory and storage. Instants are epoch ms, UTC, as in UsageInterval.
 */
export interface ResourceInterval {
  workspace: string;
  tenant: string;
  node: string;
  resource: HeldResource;
  /** Integer > 0: milli-vCPUs (vcpu) or bytes (memory, storage). */
  quantity: number;
  from: number;
  to: number;
  receivedAt?: number;
  /** As UsageInterval.lateTo. */
  lateTo?: Readonly<Record<string, string>>;
}

/** The fields billing reads from an agent resource record (agent/usage/usage-types.ts, kind resource-allocation v1). */
export interface AgentResourceRecordFields {
  node: string;
  workspace: string;
  tenant: string;
  from: number;
  to: number;
  milliVcpus?: number;
  memoryBytes?: number;
  storageBytes?: number;
}

/** Maps a stored resource record to one ResourceInterval per resource it holds (a zero or missing quantity holds nothing). */
export function resourceIntervalsFromRecord(rec: AgentResourceRecordFields, receivedAt?: number): ResourceInterval[] {
  const out: ResourceInterval[] = [];
  const held: Array<[HeldResource, number | undefined]> = [['vcpu', rec.milliVcpus], ['memory', rec.memoryBytes], ['storage', rec.storageBytes]];
  for (const [resource, quantity] of held) {
    if (quantity === undefined || !Number.isSafeInteger(quantity) || quantity <= 0) continue;
    const iv: ResourceInterval = { workspace: rec.workspace, tenant: rec.tenant, node: rec.node, resource, quantity, from: rec.from, to: rec.to };
    if (receivedAt !== undefined) iv.receivedAt = receivedAt;
    out.push(iv);
  }
  return out;
}

/** Checks one resource interval's fields; throws BILLING naming the workspace when it cannot be rated. */
export function checkResourceInterval(iv: ResourceInterval): void {
  let why: string | undefined;
  if (!Number.isFinite(iv.from) || !Number.isFinite(iv.to)) why = 'from and to must be epoch milliseconds';
  else if (iv.to < iv.from) why = `ends before it starts (${iv.from} > ${iv.to})`;
  else if (iv.workspace === '' || iv.tenant === '' || iv.node === '') why = 'workspace, tenant and node are required';
  else if (!Number.isSafeInteger(iv.quantity) || iv.quantity <= 0) why = `quantity must be a positive integer (got ${iv.quantity})`;
  if (why !== undefined) throw new FoundryError('BILLING', `${iv.resource} usage of workspace ${iv.workspace} on node ${iv.node}: ${why}`, { resource: iv.workspace });
}

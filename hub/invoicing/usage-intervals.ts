/**
 * Stored usage records (the agents' UsageRecord, kept verbatim by the gateway, de-duplicated by
 * (node, seq)) → the billing core's UsageInterval and ResourceInterval. Pure. Every row is checked
 * (record-checks.ts): a row that cannot be rated is excluded and listed with the reason, never skipped
 * without a word. A record whose GPU model is unknown to the agent takes the model the Node file
 * declares for that UUID; without one its time is rated as an unpriced line (never billed as free,
 * never guessed). Each interval carries the late assignment persisted when the record arrived.
 */
import { resourceIntervalsFromRecord, type ResourceInterval, type UsageInterval } from '../billing/usage.js';
import { checkStoredRecord } from './record-checks.js';

/** A usage row as the store keeps it. */
export interface StoredUsage {
  node: string;
  seq: number;
  payload: unknown;
  /** When the hub committed it (ISO). */
  receivedAt: string;
  /** Late pieces decided at arrival: used month → invoice month (table usage_late); {} when none. */
  lateTo?: Record<string, string>;
}

/** A stored record rating refused, and why. */
export interface ExcludedRecord {
  node: string;
  seq: number;
  reason: string;
}

/** The conversion: intervals, and the rows that could not be rated. */
export interface Converted {
  intervals: UsageInterval[];
  resources: ResourceInterval[];
  excluded: ExcludedRecord[];
}

/** Converts stored rows; `modelOf(uuid)` is the declared model of a GPU (from the Node files). */
export function toIntervals(rows: Iterable<StoredUsage>, modelOf: (uuid: string) => string | undefined): Converted {
  const out: Converted = { intervals: [], resources: [], excluded: [] };
  for (const row of rows) {
    const check = checkStoredRecord(row.payload, row.receivedAt);
    if (!check.ok) {
      out.excluded.push({ node: row.node, seq: row.seq, reason: check.reason });
      continue;
    }
    const r = check.record;
    // set only when some piece is late: on-time rows (nearly all) keep coalescing and rating on their fast path
    const late = row.lateTo === undefined || Object.keys(row.lateTo).length === 0 ? {} : { lateTo: row.lateTo };
    if (r.kind === 'resources') {
      const fields = { node: row.node, workspace: r.workspace, tenant: r.tenant, from: r.from, to: r.to, milliVcpus: r.milliVcpus, memoryBytes: r.memoryBytes, storageBytes: r.storageBytes };
      out.resources.push(...resourceIntervalsFromRecord(fields, r.receivedAt).map((iv) => ({ ...iv, ...late })));
      continue;
    }
    const gpuUuid = r.gpuUuid as string;
    // '' = unknown model: rated as an unpriced line
    const gpuModel = r.gpuModel ?? modelOf(gpuUuid) ?? '';
    const iv: UsageInterval = { workspace: r.workspace, tenant: r.tenant, node: row.node, gpuUuid, gpuModel, from: r.from, to: r.to, receivedAt: r.receivedAt, ...late };
    if (r.utilization !== undefined) iv.utilization = r.utilization;
    out.intervals.push(iv);
  }
  return out;
}

/**
 * Stored usage records (the agents' UsageRecord, kept verbatim by the gateway, de-duplicated by
 * (node, seq)) → the billing core's UsageInterval (via its intervalFromRecord). Pure. Malformed records
 * are skipped. A record whose GPU model is unknown to the
 * agent takes the model the Node file declares for that UUID; without one it cannot be priced and is
 * reported as unpriced (never billed as free, never guessed). Records of kind resource-allocation
 * (vCPUs, memory, storage of a running workspace) become resource intervals.
 */
import { intervalFromRecord, resourceIntervalsFromRecord, type ResourceInterval, type UsageInterval } from '../billing/usage.js';

/** A usage row as the store keeps it. */
export interface StoredUsage {
  node: string;
  seq: number;
  payload: unknown;
  /** When the hub committed it (ISO). */
  receivedAt: string;
}

/** The conversion: intervals and the records that could not be priced (node/seq). */
export interface Converted {
  intervals: UsageInterval[];
  resources: ResourceInterval[];
  unpriced: Array<{ node: string; seq: number; workspace: string; gpuUuid: string }>;
}

interface RecordFields {
  kind?: unknown;
  milliVcpus?: unknown;
  memoryBytes?: unknown;
  storageBytes?: unknown;
  workspace?: unknown;
  tenant?: unknown;
  gpuUuid?: unknown;
  gpuModel?: unknown;
  from?: unknown;
  to?: unknown;
  fromMs?: unknown;
  toMs?: unknown;
  measuredAvgUtilizationPct?: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Converts stored rows; `modelOf(uuid)` is the declared model of a GPU (from the Node files). */
export function toIntervals(rows: Iterable<StoredUsage>, modelOf: (uuid: string) => string | undefined): Converted {
  const out: Converted = { intervals: [], resources: [], unpriced: [] };
  for (const row of rows) {
    const r = (row.payload ?? {}) as RecordFields;
    const workspace = str(r.workspace);
    const tenant = str(r.tenant);
    const gpuUuid = str(r.gpuUuid);
    // wire format: from/to in epoch ms (fromMs/toMs in the first drafts of the record)
    const from = num(r.from) ?? num(r.fromMs);
    const to = num(r.to) ?? num(r.toMs);
    if (r.kind === 'resource-allocation') {
      if (workspace === undefined || tenant === undefined || from === undefined || to === undefined || to < from) continue;
      const fields = { node: row.node, workspace, tenant, from, to, milliVcpus: num(r.milliVcpus), memoryBytes: num(r.memoryBytes), storageBytes: num(r.storageBytes) };
      out.resources.push(...resourceIntervalsFromRecord(fields, Date.parse(row.receivedAt)));
      continue;
    }
    if (workspace === undefined || tenant === undefined || gpuUuid === undefined || from === undefined || to === undefined || to < from) continue;
    const gpuModel = str(r.gpuModel) ?? modelOf(gpuUuid);
    if (gpuModel === undefined) {
      out.unpriced.push({ node: row.node, seq: row.seq, workspace, gpuUuid });
      continue;
    }
    const util = num(r.measuredAvgUtilizationPct);
    const iv = intervalFromRecord({ node: row.node, workspace, tenant, gpuUuid, gpuModel, from, to, measuredAvgUtilizationPct: util ?? null }, Date.parse(row.receivedAt));
    out.intervals.push(iv);
  }
  return out;
}

/** The refused usage records as admins see them (table usage_refusals, written by HubStore.ingest). */
import type { RefusalRow, UsageRepo } from '../store/usage-repo.js';

export type { RefusalRow } from '../store/usage-repo.js';

/** Filter of listRefusals. */
export interface RefusalFilter {
  node?: string;
  reason?: string;
  /** At most this many, newest first (default 100, at most 1000). */
  limit?: number;
}

/** Refused usage records, newest first, with how many there are per reason (all time). */
export async function listRefusals(usage: UsageRepo, f: RefusalFilter = {}): Promise<{ refused: RefusalRow[]; byReason: Record<string, number> }> {
  const limit = Math.min(Math.max(f.limit ?? 100, 1), 1000);
  const refused = await usage.refusals({ ...(f.node === undefined ? {} : { node: f.node }), ...(f.reason === undefined ? {} : { reason: f.reason }), limit });
  return { refused, byReason: await usage.refusalCounts() };
}

/** Refusals of one node received since a time, counted by reason. */
export interface RecentRefusals {
  node: string;
  total: number;
  byReason: Record<string, number>;
}

/** Refusals received at or after `sinceIso` (an ISO instant, as received_at is stored), per node, nodes by name. */
export async function refusalsSince(usage: UsageRepo, sinceIso: string): Promise<RecentRefusals[]> {
  const out = new Map<string, RecentRefusals>();
  for (const r of await usage.refusalCountsSince(sinceIso)) {
    const e = out.get(r.node) ?? { node: r.node, total: 0, byReason: {} };
    e.total += r.n;
    e.byReason[r.reason] = r.n;
    out.set(r.node, e);
  }
  return [...out.values()];
}

/**
 * When the hub last received a usage record of each workspace (foundry_hub_workspace_last_usage_timestamp_seconds).
 * Read incrementally: each call reads only the rows stored since the last one (by row id), so a scrape
 * costs the new records, not the whole table.
 */
import type { UsageRepo } from '../store/usage-repo.js';

/** The newest receipt of one workspace. */
export interface UsageReceipt {
  tenant: string;
  workspace: string;
  /** Unix seconds (received_at of its newest record). */
  receivedSec: number;
}

// Label values are resource names only: a record's tenant and workspace passed admission, but labels must never carry free text.
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const isName = (v: string | null): v is string => v !== null && v.length <= 63 && NAME.test(v);
/** Rows read per query: a first scrape of a large table reads it in pages. */
const PAGE = 10_000;

/** The latest usage receipt per tenant and workspace. */
export class UsageReceipts {
  private lastId = 0;
  private readonly latest = new Map<string, UsageReceipt>();

  constructor(private readonly usage: UsageRepo) {}

  /** Every workspace's newest receipt, after reading the records stored since the last call. */
  async read(): Promise<UsageReceipt[]> {
    for (;;) {
      const rows = await this.usage.receiptsAfter(this.lastId, PAGE);
      for (const r of rows) {
        // two reads at once may both see a row: the id only moves forward, the newest receipt only gets newer
        this.lastId = Math.max(this.lastId, r.id);
        if (!isName(r.tenant) || !isName(r.workspace)) continue;
        const ms = Date.parse(r.receivedAt);
        if (!Number.isFinite(ms)) continue;
        const key = `${r.tenant}\u0000${r.workspace}`;
        const sec = Math.floor(ms / 1000);
        if ((this.latest.get(key)?.receivedSec ?? -Infinity) < sec) this.latest.set(key, { tenant: r.tenant, workspace: r.workspace, receivedSec: sec });
      }
      if (rows.length < PAGE) break;
    }
    return [...this.latest.values()];
  }
}

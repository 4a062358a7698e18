/**
 * When the hub last received a usage record of each workspace (foundry_hub_workspace_last_usage_timestamp_seconds).
 * Read incrementally: each call reads only the rows stored since the last one (by row id), so a scrape
 * costs the new records, not the whole table.
 */
import type Database from 'better-sqlite3';

/** The newest receipt of one workspace. */
export interface UsageReceipt {
  tenant: string;
  workspace: string;
  /** Unix seconds (received_at of its newest record). */
  receivedSec: number;
}

// Label values are resource names only: a record's tenant and workspace passed admission, but labels must never carry free text.
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The latest usage receipt per tenant and workspace. */
export class UsageReceipts {
  private lastId = 0;
  private readonly latest = new Map<string, UsageReceipt>();
  private readonly stmt: Database.Statement;

  constructor(db: Database.Database) {
    this.stmt = db.prepare("SELECT id, json_extract(payload, '$.tenant') AS tenant, json_extract(payload, '$.workspace') AS workspace, received_at FROM usage_records WHERE id > ? ORDER BY id");
  }

  /** Every workspace's newest receipt, after reading the records stored since the last call. */
  read(): UsageReceipt[] {
    const rows = this.stmt.all(this.lastId) as Array<{ id: number; tenant: unknown; workspace: unknown; received_at: string }>;
    for (const r of rows) {
      this.lastId = r.id;
      if (typeof r.tenant !== 'string' || typeof r.workspace !== 'string' || !NAME.test(r.tenant) || !NAME.test(r.workspace) || r.tenant.length > 63 || r.workspace.length > 63) continue;
      const ms = Date.parse(r.received_at);
      if (!Number.isFinite(ms)) continue;
      const key = `${r.tenant}\u0000${r.workspace}`;
      const sec = Math.floor(ms / 1000);
      if ((this.latest.get(key)?.receivedSec ?? -Infinity) < sec) this.latest.set(key, { tenant: r.tenant, workspace: r.workspace, receivedSec: sec });
    }
    return [...this.latest.values()];
  }
}

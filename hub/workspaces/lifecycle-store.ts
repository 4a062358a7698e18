/** The lifecycle table: current phase of each workspace with the time it last entered each phase, and the transitions. */
import type Database from 'better-sqlite3';
import type { Observed, Phase } from './lifecycle.js';

/** A workspace's lifecycle as the API shows it. */
export interface LifecycleRow {
  name: string;
  tenant: string;
  phase: Phase;
  reason: string;
  message: string;
  node: string | null;
  revision: string | null;
  times: Partial<Record<'pendingAt' | 'placedAt' | 'runningAt' | 'stoppedAt' | 'failedAt' | 'deletedAt', string>>;
  updatedAt: string;
}

const COLUMN: Record<Phase, string> = { Pending: 'pending_at', Placed: 'placed_at', Running: 'running_at', Stopped: 'stopped_at', Failed: 'failed_at', Deleted: 'deleted_at' };

function toRow(r: Record<string, unknown>): LifecycleRow {
  const times: LifecycleRow['times'] = {};
  for (const [key, col] of [['pendingAt', 'pending_at'], ['placedAt', 'placed_at'], ['runningAt', 'running_at'], ['stoppedAt', 'stopped_at'], ['failedAt', 'failed_at'], ['deletedAt', 'deleted_at']] as const) {
    if (typeof r[col] === 'string') times[key] = r[col];
  }
  return {
    name: String(r.name), tenant: String(r.tenant), phase: r.phase as Phase, reason: String(r.reason), message: String(r.message),
    node: (r.node as string | null) ?? null, revision: (r.revision as string | null) ?? null, times, updatedAt: String(r.updated_at),
  };
}

/** Reads and records workspace lifecycles in the hub store's database. */
export class LifecycleStore {
  constructor(private readonly db: Database.Database, private readonly now: () => Date = () => new Date()) {}

  /** One workspace's lifecycle, or undefined. */
  get(name: string): LifecycleRow | undefined {
    const r = this.db.prepare('SELECT * FROM workspace_lifecycle WHERE name = ?').get(name) as Record<string, unknown> | undefined;
    return r === undefined ? undefined : toRow(r);
  }

  /** Every lifecycle (of one tenant), by name. */
  list(tenant?: string): LifecycleRow[] {
    const rows = (tenant === undefined
      ? this.db.prepare('SELECT * FROM workspace_lifecycle ORDER BY name').all()
      : this.db.prepare('SELECT * FROM workspace_lifecycle WHERE tenant = ? ORDER BY name').all(tenant)) as Array<Record<string, unknown>>;
    return rows.map(toRow);
  }

  /**
   * Records what was observed; returns true when the phase (or node) changed, which also appends an
   * event. `at` defaults to now (an API request passes the time it arrived for Pending).
   */
  record(name: string, tenant: string, o: Observed, revision: string | null, at: Date = this.now()): boolean {
    const iso = at.toISOString();
    const cur = this.get(name);
    if (cur !== undefined && cur.phase === o.phase && cur.node === o.node) {
      // same phase: the reason and message are refreshed in place, no new event
      if (cur.message !== o.message || cur.reason !== o.reason) this.db.prepare('UPDATE workspace_lifecycle SET reason = ?, message = ? WHERE name = ?').run(o.reason, o.message, name);
      return false;
    }
    const col = COLUMN[o.phase];
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO workspace_lifecycle (name, tenant, phase, reason, message, node, revision, ${col}, updated_at) VALUES (@name, @tenant, @phase, @reason, @message, @node, @revision, @at, @at)
           ON CONFLICT(name) DO UPDATE SET tenant = @tenant, phase = @phase, reason = @reason, message = @message, node = @node, revision = COALESCE(@revision, revision), ${col} = @at, updated_at = @at`,
        )
        .run({ name, tenant, phase: o.phase, reason: o.reason, message: o.message, node: o.node, revision, at: iso });
      this.db.prepare('INSERT INTO workspace_events (name, tenant, at, phase, reason, message) VALUES (?, ?, ?, ?, ?, ?)').run(name, tenant, iso, o.phase, o.reason, o.message);
    })();
    return true;
  }

  /** The transitions of a workspace, oldest first. */
  events(name: string): Array<{ at: string; phase: Phase; reason: string; message: string }> {
    return this.db.prepare('SELECT at, phase, reason, message FROM workspace_events WHERE name = ? ORDER BY id').all(name) as Array<{ at: string; phase: Phase; reason: string; message: string }>;
  }
}

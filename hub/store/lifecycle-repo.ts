/**
 * Workspace lifecycles (tables workspace_lifecycle and workspace_events): the current phase of each
 * workspace with the time it last entered each phase, and its transitions. What a phase is and how it
 * is derived lives in hub/workspaces/lifecycle.ts.
 */
import type { Observed, Phase } from '../workspaces/lifecycle.js';
import type { Sql } from './sql/sql.js';

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

/** One transition of a workspace. */
export interface LifecycleEvent {
  at: string;
  phase: Phase;
  reason: string;
  message: string;
}

/** Workspace lifecycles in the store. */
export interface LifecycleRepo {
  /** One workspace's lifecycle, or undefined. */
  get(name: string): Promise<LifecycleRow | undefined>;
  /** Every lifecycle (of one tenant), by name. */
  list(tenant?: string): Promise<LifecycleRow[]>;
  /**
   * Records what was observed; resolves true when the phase (or node) changed, which also appends an
   * event. `at` defaults to now (an API request passes the time it arrived for Pending).
   */
  record(name: string, tenant: string, o: Observed, revision: string | null, at?: Date): Promise<boolean>;
  /** The transitions of a workspace, oldest first. */
  events(name: string): Promise<LifecycleEvent[]>;
}

const COLUMN: Record<Phase, string> = { Pending: 'pending_at', Placed: 'placed_at', Running: 'running_at', Stopped: 'stopped_at', Failed: 'failed_at', Deleted: 'deleted_at' };
const TIMES = [['pendingAt', 'pending_at'], ['placedAt', 'placed_at'], ['runningAt', 'running_at'], ['stoppedAt', 'stopped_at'], ['failedAt', 'failed_at'], ['deletedAt', 'deleted_at']] as const;
const COLUMNS = `name, tenant, phase, reason, message, node, revision, ${TIMES.map(([, c]) => c).join(', ')}, updated_at`;

function toRow(r: Record<string, unknown>): LifecycleRow {
  const times: LifecycleRow['times'] = {};
  for (const [key, col] of TIMES) if (typeof r[col] === 'string') times[key] = r[col];
  return {
    name: String(r.name), tenant: String(r.tenant), phase: r.phase as Phase, reason: String(r.reason), message: String(r.message),
    node: (r.node as string | null) ?? null, revision: (r.revision as string | null) ?? null, times, updatedAt: String(r.updated_at),
  };
}

const same = (cur: LifecycleRow, o: Observed): boolean => cur.phase === o.phase && cur.node === o.node;

/** LifecycleRepo over Sql (SQLite or PostgreSQL). */
export class SqlLifecycleRepo implements LifecycleRepo {
  constructor(private readonly sql: Sql, private readonly now: () => Date = () => new Date()) {}

  async get(name: string): Promise<LifecycleRow | undefined> {
    const r = await this.sql.get(`SELECT ${COLUMNS} FROM workspace_lifecycle WHERE name = ?`, [name]);
    return r === undefined ? undefined : toRow(r);
  }

  async list(tenant?: string): Promise<LifecycleRow[]> {
    const rows = tenant === undefined
      ? await this.sql.all(`SELECT ${COLUMNS} FROM workspace_lifecycle ORDER BY name`)
      : await this.sql.all(`SELECT ${COLUMNS} FROM workspace_lifecycle WHERE tenant = ? ORDER BY name`, [tenant]);
    return rows.map(toRow);
  }

  async record(name: string, tenant: string, o: Observed, revision: string | null, at: Date = this.now()): Promise<boolean> {
    // The usual case (every sync pass, every workspace) changes nothing: decided without a transaction.
    const before = await this.get(name);
    if (before !== undefined && same(before, o) && before.message === o.message && before.reason === o.reason) return false;
    const iso = at.toISOString();
    const col = COLUMN[o.phase];
    return this.sql.tx(async (tx) => {
      // The upsert itself decides whether this is a transition (a new row, another phase or node), so two
      // replicas recording the same change at once record it once: PostgreSQL's ON CONFLICT waits for the
      // other's row and judges the WHERE on it.
      const moved = await tx.run(
        `INSERT INTO workspace_lifecycle (name, tenant, phase, reason, message, node, revision, ${col}, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET tenant = excluded.tenant, phase = excluded.phase, reason = excluded.reason, message = excluded.message, node = excluded.node,
           revision = COALESCE(excluded.revision, workspace_lifecycle.revision), ${col} = excluded.${col}, updated_at = excluded.updated_at
         WHERE workspace_lifecycle.phase <> excluded.phase OR workspace_lifecycle.node IS DISTINCT FROM excluded.node`,
        [name, tenant, o.phase, o.reason, o.message, o.node, revision, iso, iso],
      );
      if (moved.changes === 0) {
        // same phase: the reason and message are refreshed in place, no new event
        await tx.run('UPDATE workspace_lifecycle SET reason = ?, message = ? WHERE name = ? AND (reason <> ? OR message <> ?)', [o.reason, o.message, name, o.reason, o.message]);
        return false;
      }
      await tx.run('INSERT INTO workspace_events (name, tenant, at, phase, reason, message) VALUES (?, ?, ?, ?, ?, ?)', [name, tenant, iso, o.phase, o.reason, o.message]);
      return true;
    });
  }

  events(name: string): Promise<LifecycleEvent[]> {
    return this.sql.all<LifecycleEvent>('SELECT at, phase, reason, message FROM workspace_events WHERE name = ? ORDER BY id', [name]);
  }
}

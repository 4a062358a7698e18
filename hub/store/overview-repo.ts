/**
 * What the dashboard's overview routes read (hub/routes/overview.ts): node inventories, enrollments, the
 * latest status and telemetry per node, the last hour's GPU utilization and the audit log. Read-only;
 * JSON columns come back as the stored text, parsed by the route.
 */
import type { Sql } from './sql/sql.js';

/** A node's enrollment record. */
export interface EnrollmentRow {
  node: string;
  tokenId: string;
  hostname: string;
  profile: string;
  /** JSON object text. */
  labels: string;
  enrolledAt: string;
}

/** One minute of fleet GPU utilization: the sum of samples and their count. */
export interface UtilizationMinute {
  minute: number;
  sum: number;
  samples: number;
}

/** One audit entry (details: JSON text or null). */
export interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  details: string | null;
}

/** The overview repository. */
export interface OverviewRepo {
  /** Every node's last reported inventory (JSON text, null before its first hello). */
  nodeInventories(): Promise<Array<{ name: string; inventory: string | null }>>;
  /** Every enrollment, by node. */
  enrollments(): Promise<EnrollmentRow[]>;
  /** The latest status payload of each node (JSON text), by node. */
  nodeStatuses(): Promise<Array<{ node: string; payload: string }>>;
  /** The latest telemetry payload of each node (JSON text), by node. */
  telemetryLatest(): Promise<Array<{ node: string; payload: string }>>;
  /** GPU utilization per minute from `sinceMinute` (minutes since the epoch) on, summed over nodes, by minute. */
  utilizationSince(sinceMinute: number): Promise<UtilizationMinute[]>;
  /** Audit entries with an id below `before`, newest first, at most `limit`. */
  auditPage(before: number, limit: number): Promise<AuditRow[]>;
}

/** OverviewRepo over the Sql interface. */
export class SqlOverviewRepo implements OverviewRepo {
  constructor(private readonly sql: Sql) {}

  nodeInventories(): Promise<Array<{ name: string; inventory: string | null }>> {
    return this.sql.all('SELECT name, inventory FROM nodes ORDER BY name');
  }

  enrollments(): Promise<EnrollmentRow[]> {
    return this.sql.all('SELECT node, token_id AS "tokenId", hostname, profile, labels, enrolled_at AS "enrolledAt" FROM node_enrollments ORDER BY node');
  }

  nodeStatuses(): Promise<Array<{ node: string; payload: string }>> {
    return this.sql.all('SELECT node, payload FROM node_status ORDER BY node');
  }

  telemetryLatest(): Promise<Array<{ node: string; payload: string }>> {
    return this.sql.all('SELECT node, payload FROM telemetry_latest ORDER BY node');
  }

  utilizationSince(sinceMinute: number): Promise<UtilizationMinute[]> {
    return this.sql.all('SELECT minute, SUM(gpu_util_sum) AS sum, SUM(gpu_util_samples) AS samples FROM telemetry_rollups WHERE minute >= ? GROUP BY minute ORDER BY minute', [sinceMinute]);
  }

  auditPage(before: number, limit: number): Promise<AuditRow[]> {
    return this.sql.all('SELECT id, at, actor, action, target, details FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?', [before, limit]);
  }
}

/**
 * What the live side of the hub reads about its fleet: the inventory each agent reported in its hello,
 * each node's latest telemetry and status, and the cheap signatures the dashboard's live events poll.
 * Written by HubStore (hello, telemetry, ingest); this repository only reads.
 */
import type { Sql } from './sql/sql.js';

/** Topics a dashboard page can listen to. */
export type Topic = 'nodes' | 'telemetry' | 'audit' | 'workspaces' | 'billing' | 'refused' | 'enrollment';

/** Fleet reads in the store. */
export interface FleetRepo {
  /** Every node's reported inventory (parsed JSON; null before its first hello). */
  inventories(): Promise<Map<string, unknown>>;
  /** Every node's latest telemetry sample (parsed JSON). */
  latestTelemetry(): Promise<Array<{ node: string; payload: unknown }>>;
  /** The status body a node last reported (parsed JSON), or undefined. */
  statusOf(node: string): Promise<unknown>;
  /**
   * One signature per topic: text that changes whenever what the topic's pages show changes (its
   * value means nothing else, and differs between the dialects).
   */
  signatures(): Promise<Record<Topic, string>>;
  /** Answers one trivial query (readiness). */
  ping(): Promise<void>;
}

/** Every topic, in the order pages and signatures list them. */
export const TOPICS: readonly Topic[] = ['nodes', 'telemetry', 'audit', 'workspaces', 'billing', 'refused', 'enrollment'];

/** The one query that reads every topic's signature (a column each), in the dialect's SQL. */
function signatureQuery(dialect: Sql['dialect']): string {
  // names, status and revocation of every node, in name order: SQLite's group_concat over an ordered
  // subquery, PostgreSQL's string_agg with its own ORDER BY
  const nodeList = dialect === 'sqlite'
    ? "(SELECT group_concat(x, ',') FROM (SELECT name || ':' || status || ':' || revoked AS x FROM nodes ORDER BY name))"
    : "(SELECT string_agg(name || ':' || status || ':' || revoked, ',' ORDER BY name) FROM nodes)";
  const sig: Record<Topic, string> = {
    nodes: `SELECT COALESCE(${nodeList}, '') || '|' || (SELECT COALESCE(SUM(seq), 0) FROM node_status)`,
    telemetry: "SELECT COALESCE(MAX(at), 0) || ':' || COUNT(*) FROM telemetry_latest",
    audit: "SELECT '' || COALESCE(MAX(id), 0) FROM audit_log",
    workspaces: "SELECT COALESCE(MAX(updated_at), '') || ':' || COUNT(*) FROM workspace_lifecycle",
    billing: "SELECT '' || COALESCE(MAX(id), 0) FROM usage_records",
    // refused usage (admins' Billing page and overview alerts); the name alone tells a tenant nothing it may not know
    refused: "SELECT COUNT(*) || ':' || COALESCE(MAX(received_at), '') FROM usage_refusals",
    enrollment: "SELECT COUNT(*) || ':' || COALESCE(SUM(uses), 0) || ':' || COALESCE(SUM(revoked), 0) FROM join_tokens",
  };
  return `SELECT ${TOPICS.map((t) => `(${sig[t]}) AS "${t}"`).join(', ')}`;
}

const parse = (text: string | null): unknown => (text === null ? null : (JSON.parse(text) as unknown));

/** FleetRepo over Sql (SQLite or PostgreSQL). */
export class SqlFleetRepo implements FleetRepo {
  private readonly signatureText: string;

  constructor(private readonly sql: Sql) {
    this.signatureText = signatureQuery(sql.dialect);
  }

  async inventories(): Promise<Map<string, unknown>> {
    const rows = await this.sql.all<{ name: string; inventory: string | null }>('SELECT name, inventory FROM nodes');
    return new Map(rows.map((r) => [r.name, parse(r.inventory)]));
  }

  async latestTelemetry(): Promise<Array<{ node: string; payload: unknown }>> {
    const rows = await this.sql.all<{ node: string; payload: string }>('SELECT node, payload FROM telemetry_latest ORDER BY node');
    return rows.map((r) => ({ node: r.node, payload: parse(r.payload) }));
  }

  async statusOf(node: string): Promise<unknown> {
    const r = await this.sql.get<{ payload: string }>('SELECT payload FROM node_status WHERE node = ?', [node]);
    return r === undefined ? undefined : parse(r.payload);
  }

  async signatures(): Promise<Record<Topic, string>> {
    // one statement, so one round trip to PostgreSQL per poll
    const row = (await this.sql.get<Record<Topic, unknown>>(this.signatureText)) ?? ({} as Record<Topic, unknown>);
    return Object.fromEntries(TOPICS.map((t) => [t, String(row[t] ?? '')])) as Record<Topic, string>;
  }

  async ping(): Promise<void> {
    await this.sql.get('SELECT 1 AS ok');
  }
}

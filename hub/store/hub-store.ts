/**
 * The hub's store: one SQLite file (embedded, the default: better-sqlite3, WAL) or a PostgreSQL database
 * (several replicas), both through hub/store/sql/sql.ts. An ack means a commit: the hub acknowledges a
 * usage record only after the transaction that stores it has committed durably (SQLite synchronous=FULL;
 * PostgreSQL synchronous_commit as the operator configured it, on by default), and the agent then
 * deletes it from its outbox. With SQLite's NORMAL a power loss could drop the last commits after their
 * ack went out: money lost.
 *
 * HubStore is the composition of the repositories (one property per area, built once from `sql`) plus
 * the node, inbox, telemetry and audit statements every part of the hub shares.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { assertNotDowngrade, migrate, migrateSql, schemaStatus } from './migrate.js';
import { MIGRATIONS } from './migrations/index.js';
import { FoundryError } from '../../common/errors.js';
import { newSecret, hashSecret, NODE_CREDENTIAL_PREFIX, ADMIN_TOKEN_PREFIX } from '../auth/secrets.js';
import type { TelemetryMessage, HelloMessage } from '../../common/protocol/codec.js';
import { TelemetryBuffer, type TelemetrySample, type TelemetryRollup } from './telemetry-buffer.js';
import { compareText } from '../../common/text-order.js';
import { startCheckpointer, type Checkpointer } from './checkpointer.js';
import type { Sql, SqlExecutor } from './sql/sql.js';
import { openPostgres, redactUrl, PostgresSql } from './sql/postgres.js';
import { LocalBus, PgBus, type HubBus } from './bus.js';
import { LocalLeases, PgLeases, type HubLeases } from './leases.js';
import { SqliteSql } from './sql/sqlite.js';
import { SqlSecretsRepo, type SecretsRepo } from './secrets-repo.js';
import { SqlVolumeKeysRepo, type VolumeKeysRepo } from './volume-keys-repo.js';
import { SqlAppSessionsRepo, type AppSessionsRepo } from './app-sessions-repo.js';
import { SqlUsersRepo, type UsersRepo } from './users-repo.js';
import { SqlSessionsRepo, type SessionsRepo } from './sessions-repo.js';
import { SqlApiTokensRepo, type ApiTokensRepo } from './api-tokens-repo.js';
import { SqlSsoRepo, type SsoRepo } from './sso-repo.js';
import { SqlBillingRepo, type BillingRepo } from './billing-repo.js';
import { SqlUsageRepo, type UsageRepo } from './usage-repo.js';
import { SqlOverviewRepo, type OverviewRepo } from './overview-repo.js';
import { SqlJoinTokensRepo, type JoinTokensRepo } from './join-tokens-repo.js';
import { SqlLifecycleRepo, type LifecycleRepo } from './lifecycle-repo.js';
import { SqlFleetRepo, type FleetRepo } from './fleet-repo.js';

/** A record from a node's outbox, as the hub commits it. */
export interface InboxItem {
  node: string;
  seq: number;
  kind: 'usage' | 'status' | 'usage-refused';
  payload: unknown;
  /** For usage-refused: why (never billed; see hub/usage/admission.ts). */
  refusal?: { reason: string; field?: string; message: string };
}

/** A node row as the API and CLI see it (never the credential hash). */
export interface NodeRow {
  name: string;
  status: string;
  lastSeenAt: string | null;
  agentVersion: string | null;
  appliedRevision: string | null;
  revoked: boolean;
  /** The node's age public key (age1...), from enrollment or its last hello; null until it reported one. */
  ageRecipient: string | null;
}

/** A stored usage record. */
export interface UsageRow {
  node: string;
  seq: number;
  payload: unknown;
  receivedAt: string;
}

/** Result of looking up a node credential. */
export type NodeAuth = { ok: true; node: string } | { ok: false; reason: 'unknown' | 'revoked'; node?: string };

/** Result of committing outbox items. */
export interface IngestResult {
  /** Items stored now (duplicates of (node, seq) are not). */
  fresh: number;
  /** Per item: for a refused usage record, true when it stays refused (no admitted record of that (node, seq) exists). */
  refusedKept: boolean[];
}

/** True when `target` names a PostgreSQL database (postgres:// or postgresql://) rather than an SQLite file. */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/** The hub store. Every method is async; `ex` lets a caller run it inside its own transaction. */
export class HubStore {
  /** The SQLite connection (embedded backend only); undefined on PostgreSQL. */
  private readonly sqlite: Database.Database | undefined;
  /** The database through the Sql interface (hub/store/sql/sql.ts) that the repositories use. */
  readonly sql: Sql;
  /** Which backend this is; where it lives (file path, or the URL without its password). */
  readonly backend: 'sqlite' | 'postgres';
  readonly location: string;
  /** Tenant secrets of workspaces (ciphertexts only). */
  readonly secrets: SecretsRepo;
  /** Wrapped volume keys. */
  readonly volumeKeys: VolumeKeysRepo;
  /** The ingress's login codes, app sessions and status sequence numbers. */
  readonly appSessions: AppSessionsRepo;
  /** Dashboard users, their second factors and SSO links. */
  readonly users: UsersRepo;
  /** Dashboard sessions. */
  readonly sessions: SessionsRepo;
  /** API tokens. */
  readonly apiTokens: ApiTokensRepo;
  /** Single sign-on's logins, step-ups and SAML caches. */
  readonly sso: SsoRepo;
  /** Closed months, frozen invoices and the usage rows billing reads (hub/store/billing-repo.ts). */
  readonly billing: BillingRepo;
  /** Refused usage, usage receipts and enrollment times for admission (hub/store/usage-repo.ts). */
  readonly usage: UsageRepo;
  /** What the dashboard's overview routes read (hub/store/overview-repo.ts). */
  readonly overview: OverviewRepo;
  /** Join tokens, enrollments and the hub's saved identity. */
  readonly joinTokens: JoinTokensRepo;
  /** Workspace lifecycles and their transitions. */
  readonly lifecycles: LifecycleRepo;
  /** What the live side reads: inventories, latest telemetry and status, dashboard signatures. */
  readonly fleet: FleetRepo;
  /** Messages to every replica (hub/store/bus.ts): LISTEN/NOTIFY on PostgreSQL, in-process on SQLite. */
  readonly bus: HubBus;
  /** Named locks for work that must run on one replica at a time (hub/store/leases.ts). */
  readonly leases: HubLeases;
  private readonly now: () => Date;

  /**
   * Opens the SQLite store at `path` (created and migrated when needed), or wraps an opened, migrated Sql
   * (HubStore.open does that for PostgreSQL).
   */
  constructor(target: string | { sql: Sql; location: string; bus?: HubBus }, options: { now?: () => Date } = {}) {
    this.now = options.now ?? (() => new Date());
    if (typeof target !== 'string') {
      this.sql = target.sql;
      this.backend = target.sql.dialect;
      this.location = target.location;
      this.sqlite = undefined;
      this.bus = target.bus ?? new LocalBus();
    } else {
      this.bus = new LocalBus();
      this.sqlite = HubStore.openSqlite(target, this.now);
      this.sql = new SqliteSql(this.sqlite);
      this.backend = 'sqlite';
      this.location = target;
    }
    // the repositories, one per area (hub/store/*-repo.ts)
    this.secrets = new SqlSecretsRepo(this.sql);
    this.volumeKeys = new SqlVolumeKeysRepo(this.sql);
    this.appSessions = new SqlAppSessionsRepo(this.sql);
    this.users = new SqlUsersRepo(this.sql);
    this.sessions = new SqlSessionsRepo(this.sql);
    this.apiTokens = new SqlApiTokensRepo(this.sql);
    this.sso = new SqlSsoRepo(this.sql);
    this.billing = new SqlBillingRepo(this.sql);
    this.usage = new SqlUsageRepo(this.sql);
    this.overview = new SqlOverviewRepo(this.sql);
    this.joinTokens = new SqlJoinTokensRepo(this.sql);
    this.lifecycles = new SqlLifecycleRepo(this.sql, this.now);
    this.fleet = new SqlFleetRepo(this.sql);
    this.leases = this.sql instanceof PostgresSql ? new PgLeases(this.sql.pool) : new LocalLeases();
  }

  /** Opens (creates) and migrates the SQLite file at `path`; refuses a database of a newer hub before writing to it. */
  private static openSqlite(path: string, now: () => Date): Database.Database {
    let db: Database.Database;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    try {
      db = new Database(path);
    } catch (err) {
      throw new FoundryError('STORE', 'cannot open the hub store', { resource: path, cause: err });
    }
    // A database a newer hub migrated is refused before this one writes anything to it (not even WAL mode).
    try {
      assertNotDowngrade(schemaStatus(db, MIGRATIONS), path);
    } catch (err) {
      db.close();
      if (err instanceof FoundryError) throw err;
      throw new FoundryError('STORE', 'cannot open the hub store', { resource: path, cause: err });
    }
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
      migrate(db, MIGRATIONS, now);
    } catch (err) {
      throw new FoundryError('STORE', 'cannot open the hub store', { resource: path, cause: err });
    }
    return db;
  }

  /**
   * Opens the store named by `target`: an SQLite file path, or a postgres:// URL (the database must exist;
   * pending migrations are applied under an advisory lock, so replicas may start together).
   */
  static async open(target: string, options: { now?: () => Date; poolSize?: number; onBusError?: (err: unknown) => void } = {}): Promise<HubStore> {
    if (!isPostgresUrl(target)) return new HubStore(target, options);
    const sql = await openPostgres(target, { max: options.poolSize });
    try {
      await migrateSql(sql, MIGRATIONS, options.now);
    } catch (err) {
      await sql.close();
      if (err instanceof FoundryError) throw err;
      throw new FoundryError('STORE', `cannot migrate the hub database at ${redactUrl(target)}`, { cause: err });
    }
    return new HubStore({ sql, location: redactUrl(target), bus: new PgBus({ url: target, sql, onError: options.onBusError }) }, options);
  }

  private iso(): string {
    return this.now().toISOString();
  }

  /** Creates the node (or rotates its credential and lifts a revocation); returns the new credential, shown once. */
  async issueNodeCredential(name: string, actor = 'cli'): Promise<string> {
    const credential = newSecret(NODE_CREDENTIAL_PREFIX);
    await this.sql.tx(async (tx) => {
      await tx.run('INSERT INTO nodes (name, credential_hash, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET credential_hash = excluded.credential_hash, revoked = 0', [name, hashSecret(credential), this.iso()]);
      await this.audit(actor, 'node.credential.issue', name, undefined, tx);
    });
    return credential;
  }

  /** Revokes a node's credential: its connections are refused from now on. False when there is no such node. */
  async revokeNode(name: string, actor = 'cli'): Promise<boolean> {
    return this.sql.tx(async (tx) => {
      const changed = (await tx.run('UPDATE nodes SET revoked = 1 WHERE name = ?', [name])).changes > 0;
      if (changed) await this.audit(actor, 'node.revoke', name, undefined, tx);
      return changed;
    });
  }

  /** Looks a node credential up by its hash. */
  async authenticateNode(credential: string): Promise<NodeAuth> {
    const row = await this.sql.get<{ name: string; revoked: number }>('SELECT name, revoked FROM nodes WHERE credential_hash = ?', [hashSecret(credential)]);
    if (row === undefined) return { ok: false, reason: 'unknown' };
    return row.revoked === 1 ? { ok: false, reason: 'revoked', node: row.name } : { ok: true, node: row.name };
  }

  /** Creates an admin token; returns it (shown once). */
  async createAdminToken(label: string, actor = 'cli'): Promise<string> {
    const token = newSecret(ADMIN_TOKEN_PREFIX);
    await this.sql.tx(async (tx) => {
      await tx.run('INSERT INTO admin_tokens (label, token_hash, created_at) VALUES (?, ?, ?)', [label, hashSecret(token), this.iso()]);
      await this.audit(actor, 'admin-token.create', label, undefined, tx);
    });
    return token;
  }

  /** The label of a valid admin token, or undefined. */
  async authenticateAdmin(token: string): Promise<string | undefined> {
    return (await this.sql.get<{ label: string }>('SELECT label FROM admin_tokens WHERE token_hash = ? AND revoked = 0', [hashSecret(token)]))?.label;
  }

  /** Number of admin tokens ever created (revoked or not). */
  async adminTokenCount(): Promise<number> {
    return (await this.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM admin_tokens'))?.n ?? 0;
  }

  /** Records what an agent said in its hello and marks it connected (and its age recipient, when it sent one). */
  async recordHello(node: string, hello: HelloMessage['body'], ex: SqlExecutor = this.sql): Promise<void> {
    await ex.run("UPDATE nodes SET status = 'connected', last_seen_at = ?, agent_version = ?, applied_revision = ?, inventory = ? WHERE name = ?", [
      this.iso(),
      hello.agentVersion,
      hello.appliedRevision ?? null,
      JSON.stringify(hello.inventory),
      node,
    ]);
    if (hello.ageRecipient !== undefined) await this.setNodeRecipient(node, hello.ageRecipient, `node:${node}`, ex);
  }

  /** Stores a node's age public key; a change is audited (a new key means the node's secrets must be re-encrypted). */
  async setNodeRecipient(node: string, recipient: string, actor: string, ex: SqlExecutor = this.sql): Promise<void> {
    const old = (await ex.get<{ age_recipient: string | null }>('SELECT age_recipient FROM nodes WHERE name = ?', [node]))?.age_recipient ?? null;
    if (old === recipient) return;
    await ex.run('UPDATE nodes SET age_recipient = ?, age_recipient_at = ? WHERE name = ?', [recipient, this.iso(), node]);
    await this.audit(actor, old === null ? 'node.age-recipient.set' : 'node.age-recipient.change', node, { recipient, ...(old === null ? {} : { previous: old }) }, ex);
  }

  /** The age public key of a node, or undefined. */
  async nodeRecipient(node: string): Promise<string | undefined> {
    return (await this.sql.get<{ age_recipient: string | null }>('SELECT age_recipient FROM nodes WHERE name = ?', [node]))?.age_recipient ?? undefined;
  }

  /** Marks a node connected or disconnected now. */
  async markSeen(node: string, status: 'connected' | 'disconnected', ex: SqlExecutor = this.sql): Promise<void> {
    await ex.run('UPDATE nodes SET status = ?, last_seen_at = ? WHERE name = ?', [status, this.iso(), node]);
  }

  /**
   * Commits outbox items in one transaction; duplicates of (node, seq) are ignored. For each refused usage
   * record, says whether it stays refused (an admitted record of that (node, seq) wins over a refused resend).
   */
  async ingest(items: readonly InboxItem[]): Promise<IngestResult> {
    const at = this.iso();
    // One order for every writer (node, then seq): two replicas committing overlapping batches then wait
    // for each other instead of deadlocking on the unique index.
    const order = items.map((_, i) => i).sort((a, b) => compareText(items[a]!.node, items[b]!.node) || items[a]!.seq - items[b]!.seq);
    return this.sql.tx(async (tx) => {
      let fresh = 0;
      const refusedKept: boolean[] = new Array<boolean>(items.length).fill(false);
      for (const i of order) {
        const it = items[i]!;
        const payload = JSON.stringify(it.payload);
        let kept = false;
        if (it.kind === 'usage') fresh += (await tx.run('INSERT INTO usage_records (node, seq, payload, received_at) VALUES (?, ?, ?, ?) ON CONFLICT (node, seq) DO NOTHING', [it.node, it.seq, payload, at])).changes;
        else if (it.kind === 'usage-refused') {
          // a refused record is kept for admins (truncated: it is whatever the peer sent), never billed
          const r = it.refusal ?? { reason: 'malformed', message: 'refused' };
          fresh += (
            await tx.run(
              'INSERT INTO usage_refusals (node, seq, reason, field, message, record, received_at) SELECT ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM usage_records WHERE node = ? AND seq = ?) ON CONFLICT DO NOTHING',
              [it.node, it.seq, r.reason, r.field ?? null, r.message, payload.slice(0, 4096), at, it.node, it.seq],
            )
          ).changes;
          kept = (await tx.get('SELECT 1 AS x FROM usage_records WHERE node = ? AND seq = ?', [it.node, it.seq])) === undefined;
        } else {
          const n = (await tx.run('INSERT INTO status_events (node, seq, payload, received_at) VALUES (?, ?, ?, ?) ON CONFLICT (node, seq) DO NOTHING', [it.node, it.seq, payload, at])).changes;
          fresh += n;
          if (n > 0) {
            await tx.run(
              'INSERT INTO node_status (node, seq, payload, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (node) DO UPDATE SET seq = excluded.seq, payload = excluded.payload, updated_at = excluded.updated_at WHERE excluded.seq > node_status.seq',
              [it.node, it.seq, payload, at],
            );
          }
        }
        refusedKept[i] = kept;
      }
      return { fresh, refusedKept };
    });
  }

  /** True when (node, seq) is stored as admitted usage (a refused resend of it then stays admitted). */
  async hasUsage(node: string, seq: number): Promise<boolean> {
    return (await this.sql.get('SELECT 1 AS x FROM usage_records WHERE node = ? AND seq = ?', [node, seq])) !== undefined;
  }

  /** Stores telemetry samples: the latest per node and per-minute rollups (the only history kept). */
  async recordTelemetry(samples: readonly TelemetryMessage['body'][]): Promise<void> {
    const buffer = new TelemetryBuffer();
    samples.forEach((s) => buffer.add(s));
    await this.writeTelemetry(buffer.drain());
  }

  /**
   * Runs `fn` in a transaction committed without waiting for the disk: for telemetry and presence, which
   * may be lost in a power cut. (SQLite: the next FULL commit makes them durable too, since it syncs the
   * whole WAL; PostgreSQL: synchronous_commit=off for this transaction only.)
   */
  relaxedTransaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.sql.tx(fn, { durability: 'relaxed' });
  }

  /** Writes aggregated telemetry (see TelemetryBuffer) in one relaxed transaction. */
  async writeTelemetry(t: { latest: readonly TelemetrySample[]; rollups: readonly TelemetryRollup[] }): Promise<void> {
    await this.relaxedTransaction(async (tx) => {
      for (const s of t.latest) {
        await tx.run('INSERT INTO telemetry_latest (node, at, payload) VALUES (?, ?, ?) ON CONFLICT (node) DO UPDATE SET at = excluded.at, payload = excluded.payload WHERE excluded.at >= telemetry_latest.at', [s.node, s.at, JSON.stringify(s)]);
      }
      for (const r of t.rollups) {
        await tx.run(
          `INSERT INTO telemetry_rollups (node, minute, samples, gpu_util_sum, gpu_util_samples, gpu_mem_used_mib_sum, host_cpu_sum, host_cpu_samples)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (node, minute) DO UPDATE SET samples = telemetry_rollups.samples + excluded.samples,
             gpu_util_sum = telemetry_rollups.gpu_util_sum + excluded.gpu_util_sum, gpu_util_samples = telemetry_rollups.gpu_util_samples + excluded.gpu_util_samples,
             gpu_mem_used_mib_sum = telemetry_rollups.gpu_mem_used_mib_sum + excluded.gpu_mem_used_mib_sum, host_cpu_sum = telemetry_rollups.host_cpu_sum + excluded.host_cpu_sum,
             host_cpu_samples = telemetry_rollups.host_cpu_samples + excluded.host_cpu_samples`,
          [r.node, r.minute, r.samples, r.gpuUtilSum, r.gpuUtilSamples, r.gpuMemUsedMibSum, r.hostCpuSum, r.hostCpuSamples],
        );
      }
    });
  }

  /** Deletes telemetry rollups older than `before` (epoch ms); returns rows removed. */
  async pruneTelemetry(before: number): Promise<number> {
    return (await this.sql.run('DELETE FROM telemetry_rollups WHERE minute < ?', [Math.floor(before / 60_000)])).changes;
  }

  /** Appends to the audit log (never secrets in details); `ex` to write it inside the caller's transaction. */
  async audit(actor: string, action: string, target?: string, details?: Record<string, unknown>, ex: SqlExecutor = this.sql): Promise<void> {
    await ex.run('INSERT INTO audit_log (at, actor, action, target, details) VALUES (?, ?, ?, ?, ?)', [this.iso(), actor, action, target ?? null, details === undefined ? null : JSON.stringify(details)]);
  }

  /** Records a new infra-repo revision learnt from a push or a webhook. */
  async recordRevision(revision: string, ref: string | undefined, source: 'push' | 'webhook'): Promise<void> {
    await this.sql.run('INSERT INTO repo_revisions (revision, ref, source, received_at) VALUES (?, ?, ?, ?)', [revision, ref ?? null, source, this.iso()]);
  }

  /** Every node, by name. */
  async nodes(): Promise<NodeRow[]> {
    const rows = await this.sql.all<Record<string, unknown>>('SELECT name, status, last_seen_at, agent_version, applied_revision, revoked, age_recipient FROM nodes ORDER BY name');
    return rows.map((r) => ({
      name: String(r.name),
      status: String(r.status),
      lastSeenAt: (r.last_seen_at as string | null) ?? null,
      agentVersion: (r.agent_version as string | null) ?? null,
      appliedRevision: (r.applied_revision as string | null) ?? null,
      revoked: r.revoked === 1,
      ageRecipient: (r.age_recipient as string | null) ?? null,
    }));
  }

  /** Usage records, optionally of one node, by node and seq. */
  async usageRecords(node?: string): Promise<UsageRow[]> {
    const rows =
      node === undefined
        ? await this.sql.all<{ node: string; seq: number; payload: string; received_at: string }>('SELECT node, seq, payload, received_at FROM usage_records ORDER BY node, seq')
        : await this.sql.all<{ node: string; seq: number; payload: string; received_at: string }>('SELECT node, seq, payload, received_at FROM usage_records WHERE node = ? ORDER BY seq', [node]);
    return rows.map((r) => ({ node: r.node, seq: r.seq, payload: JSON.parse(r.payload) as unknown, receivedAt: r.received_at }));
  }

  /** The latest status a node reported, or undefined. */
  async nodeStatus(node: string): Promise<{ seq: number; payload: unknown } | undefined> {
    const row = await this.sql.get<{ seq: number; payload: string }>('SELECT seq, payload FROM node_status WHERE node = ?', [node]);
    return row === undefined ? undefined : { seq: row.seq, payload: JSON.parse(row.payload) as unknown };
  }

  /** Audit entries, oldest first. */
  async auditLog(): Promise<Array<{ actor: string; action: string; target: string | null }>> {
    return this.sql.all<{ actor: string; action: string; target: string | null }>('SELECT actor, action, target FROM audit_log ORDER BY id');
  }

  /**
   * The SQLite connection, for SQLite-only work inside hub/store/ (backups, checkpoints) and for tests;
   * eslint refuses `store.db` elsewhere. Throws on PostgreSQL, which has none.
   */
  get db(): Database.Database {
    if (this.sqlite === undefined) throw new FoundryError('STORE', `the hub store at ${this.location} is PostgreSQL: it has no SQLite connection`);
    return this.sqlite;
  }

  /**
   * SQLite: checkpoints the WAL from a worker thread every second, so that no commit on the event loop pays
   * for one (hub/store/checkpointer.ts). PostgreSQL checkpoints by itself: nothing to start.
   */
  startCheckpointer(onError: (message: string) => void): Checkpointer {
    return this.sqlite === undefined ? { stop: async () => undefined } : startCheckpointer(this.sqlite, 1000, onError);
  }

  /** Waits for pending statements, then closes: SQLite checkpoints its WAL first; PostgreSQL ends the pool. */
  async close(): Promise<void> {
    await this.bus.close();
    if (this.backend === 'postgres') {
      await this.sql.close();
      return;
    }
    await this.sql.close();
    if (this.sqlite === undefined || !this.sqlite.open) return;
    this.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    this.sqlite.close();
  }
}

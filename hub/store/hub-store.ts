/**
 * The hub's embedded store: one SQLite file (better-sqlite3, WAL). synchronous=FULL because acks depend on
 * it: the hub acknowledges a usage record only after its commit, and the agent then deletes it from its
 * outbox. With NORMAL a power loss could drop the last commits after their ack went out: money lost.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { assertNotDowngrade, migrate, schemaStatus } from './migrate.js';
import { MIGRATIONS } from './migrations/index.js';
import { FoundryError } from '../../common/errors.js';
import { newSecret, hashSecret, NODE_CREDENTIAL_PREFIX, ADMIN_TOKEN_PREFIX } from '../auth/secrets.js';
import type { TelemetryMessage, HelloMessage } from '../../common/protocol/codec.js';
import { TelemetryBuffer, type TelemetrySample, type TelemetryRollup } from './telemetry-buffer.js';
import type { Sql } from './sql/sql.js';
import { SqliteSql } from './sql/sqlite.js';
import { SqlUsersRepo, type UsersRepo } from './users-repo.js';
import { SqlSessionsRepo, type SessionsRepo } from './sessions-repo.js';
import { SqlApiTokensRepo, type ApiTokensRepo } from './api-tokens-repo.js';
import { SqlSsoRepo, type SsoRepo } from './sso-repo.js';

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

/** The hub store. Every method is synchronous (better-sqlite3); callers batch to keep commits few. */
export class HubStore {
  readonly db: Database.Database;
  /** The same database through the Sql interface (hub/store/sql/sql.ts) that the repositories use. */
  readonly sql: Sql;
  /** Dashboard users, their second factors and SSO links. */
  readonly users: UsersRepo;
  /** Dashboard sessions. */
  readonly sessions: SessionsRepo;
  /** API tokens. */
  readonly apiTokens: ApiTokensRepo;
  /** Single sign-on's logins, step-ups and SAML caches. */
  readonly sso: SsoRepo;
  private readonly now: () => Date;
  private readonly stmts;

  constructor(path: string, options: { now?: () => Date } = {}) {
    this.now = options.now ?? (() => new Date());
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    try {
      this.db = new Database(path);
    } catch (err) {
      throw new FoundryError('STORE', 'cannot open the hub store', { resource: path, cause: err });
    }
    // A database a newer hub migrated is refused before this one writes anything to it (not even WAL mode).
    try {
      assertNotDowngrade(schemaStatus(this.db, MIGRATIONS), path);
    } catch (err) {
      this.db.close();
      if (err instanceof FoundryError) throw err;
      throw new FoundryError('STORE', 'cannot open the hub store', { resource: path, cause: err });
    }
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('foreign_keys = ON');
      migrate(this.db, MIGRATIONS, this.now);
    } catch (err) {
      throw new FoundryError('STORE', 'cannot open the hub store', { resource: path, cause: err });
    }
    this.sql = new SqliteSql(this.db);
    this.users = new SqlUsersRepo(this.sql);
    this.sessions = new SqlSessionsRepo(this.sql);
    this.apiTokens = new SqlApiTokensRepo(this.sql);
    this.sso = new SqlSsoRepo(this.sql);
    const db = this.db;
    this.stmts = {
      insertUsage: db.prepare('INSERT OR IGNORE INTO usage_records (node, seq, payload, received_at) VALUES (?, ?, ?, ?)'),
      insertRefusal: db.prepare(
        'INSERT OR IGNORE INTO usage_refusals (node, seq, reason, field, message, record, received_at) SELECT ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM usage_records WHERE node = ? AND seq = ?)',
      ),
      hasUsage: db.prepare('SELECT 1 FROM usage_records WHERE node = ? AND seq = ?'),
      insertStatus: db.prepare('INSERT OR IGNORE INTO status_events (node, seq, payload, received_at) VALUES (?, ?, ?, ?)'),
      upsertStatus: db.prepare(
        'INSERT INTO node_status (node, seq, payload, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(node) DO UPDATE SET seq = excluded.seq, payload = excluded.payload, updated_at = excluded.updated_at WHERE excluded.seq > node_status.seq',
      ),
      telemetryLatest: db.prepare(
        'INSERT INTO telemetry_latest (node, at, payload) VALUES (?, ?, ?) ON CONFLICT(node) DO UPDATE SET at = excluded.at, payload = excluded.payload WHERE excluded.at >= telemetry_latest.at',
      ),
      telemetryRollup: db.prepare(
        `INSERT INTO telemetry_rollups (node, minute, samples, gpu_util_sum, gpu_util_samples, gpu_mem_used_mib_sum, host_cpu_sum, host_cpu_samples)
         VALUES (@node, @minute, @samples, @gu, @gun, @gm, @cpu, @cpun)
         ON CONFLICT(node, minute) DO UPDATE SET samples = samples + @samples, gpu_util_sum = gpu_util_sum + @gu, gpu_util_samples = gpu_util_samples + @gun,
           gpu_mem_used_mib_sum = gpu_mem_used_mib_sum + @gm, host_cpu_sum = host_cpu_sum + @cpu, host_cpu_samples = host_cpu_samples + @cpun`,
      ),
      nodeByHash: db.prepare('SELECT name, revoked FROM nodes WHERE credential_hash = ?'),
      adminByHash: db.prepare('SELECT label FROM admin_tokens WHERE token_hash = ? AND revoked = 0'),
      audit: db.prepare('INSERT INTO audit_log (at, actor, action, target, details) VALUES (?, ?, ?, ?, ?)'),
      seen: db.prepare('UPDATE nodes SET status = ?, last_seen_at = ? WHERE name = ?'),
    };
  }

  private iso(): string {
    return this.now().toISOString();
  }

  /** Creates the node (or rotates its credential and lifts a revocation); returns the new credential, shown once. */
  issueNodeCredential(name: string, actor = 'cli'): string {
    const credential = newSecret(NODE_CREDENTIAL_PREFIX);
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO nodes (name, credential_hash, created_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET credential_hash = excluded.credential_hash, revoked = 0')
        .run(name, hashSecret(credential), this.iso());
      this.audit(actor, 'node.credential.issue', name);
    })();
    return credential;
  }

  /** Revokes a node's credential: its connections are refused from now on. False when there is no such node. */
  revokeNode(name: string, actor = 'cli'): boolean {
    const changed = this.db.prepare('UPDATE nodes SET revoked = 1 WHERE name = ?').run(name).changes > 0;
    if (changed) this.audit(actor, 'node.revoke', name);
    return changed;
  }

  /** Looks a node credential up by its hash. */
  authenticateNode(credential: string): NodeAuth {
    const row = this.stmts.nodeByHash.get(hashSecret(credential)) as { name: string; revoked: number } | undefined;
    if (row === undefined) return { ok: false, reason: 'unknown' };
    return row.revoked === 1 ? { ok: false, reason: 'revoked', node: row.name } : { ok: true, node: row.name };
  }

  /** Creates an admin token; returns it (shown once). */
  createAdminToken(label: string, actor = 'cli'): string {
    const token = newSecret(ADMIN_TOKEN_PREFIX);
    this.db.prepare('INSERT INTO admin_tokens (label, token_hash, created_at) VALUES (?, ?, ?)').run(label, hashSecret(token), this.iso());
    this.audit(actor, 'admin-token.create', label);
    return token;
  }

  /** The label of a valid admin token, or undefined. */
  authenticateAdmin(token: string): string | undefined {
    return (this.stmts.adminByHash.get(hashSecret(token)) as { label: string } | undefined)?.label;
  }

  /** Number of admin tokens ever created (revoked or not). */
  adminTokenCount(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM admin_tokens').get() as { n: number }).n;
  }

  /** Records what an agent said in its hello and marks it connected (and its age recipient, when it sent one). */
  recordHello(node: string, hello: HelloMessage['body']): void {
    this.db
      .prepare("UPDATE nodes SET status = 'connected', last_seen_at = ?, agent_version = ?, applied_revision = ?, inventory = ? WHERE name = ?")
      .run(this.iso(), hello.agentVersion, hello.appliedRevision, JSON.stringify(hello.inventory), node);
    if (hello.ageRecipient !== undefined) this.setNodeRecipient(node, hello.ageRecipient, `node:${node}`);
  }

  /** Stores a node's age public key; a change is audited (a new key means the node's secrets must be re-encrypted). */
  setNodeRecipient(node: string, recipient: string, actor: string): void {
    const old = (this.db.prepare('SELECT age_recipient FROM nodes WHERE name = ?').get(node) as { age_recipient: string | null } | undefined)?.age_recipient ?? null;
    if (old === recipient) return;
    this.db.prepare('UPDATE nodes SET age_recipient = ?, age_recipient_at = ? WHERE name = ?').run(recipient, this.iso(), node);
    this.audit(actor, old === null ? 'node.age-recipient.set' : 'node.age-recipient.change', node, { recipient, ...(old === null ? {} : { previous: old }) });
  }

  /** The age public key of a node, or undefined. */
  nodeRecipient(node: string): string | undefined {
    return (this.db.prepare('SELECT age_recipient FROM nodes WHERE name = ?').get(node) as { age_recipient: string | null } | undefined)?.age_recipient ?? undefined;
  }

  /** Marks a node connected or disconnected. */
  markSeen(node: string, status: 'connected' | 'disconnected'): void {
    this.stmts.seen.run(status, this.iso(), node);
  }

  /** Commits outbox items in one transaction; duplicates of (node, seq) are ignored. Returns how many were new. */
  ingest(items: readonly InboxItem[]): number {
    const at = this.iso();
    let fresh = 0;
    this.db.transaction(() => {
      for (const it of items) {
        const payload = JSON.stringify(it.payload);
        if (it.kind === 'usage') fresh += this.stmts.insertUsage.run(it.node, it.seq, payload, at).changes;
        else if (it.kind === 'usage-refused') {
          // a refused record is kept for admins (truncated: it is whatever the peer sent), never billed
          const r = it.refusal ?? { reason: 'malformed', message: 'refused' };
          fresh += this.stmts.insertRefusal.run(it.node, it.seq, r.reason, r.field ?? null, r.message, payload.slice(0, 4096), at, it.node, it.seq).changes;
        } else {
          const n = this.stmts.insertStatus.run(it.node, it.seq, payload, at).changes;
          fresh += n;
          if (n > 0) this.stmts.upsertStatus.run(it.node, it.seq, payload, at);
        }
      }
    })();
    return fresh;
  }

  /** True when (node, seq) is stored as admitted usage (a refused resend of it then stays admitted). */
  hasUsage(node: string, seq: number): boolean {
    return this.stmts.hasUsage.get(node, seq) !== undefined;
  }

  /** Stores telemetry samples: the latest per node and per-minute rollups (the only history kept). */
  recordTelemetry(samples: readonly TelemetryMessage['body'][]): void {
    const buffer = new TelemetryBuffer();
    samples.forEach((s) => buffer.add(s));
    this.writeTelemetry(buffer.drain());
  }

  /**
   * Runs `fn` in a transaction committed without waiting for the disk (synchronous=NORMAL for this commit
   * only): for telemetry and presence, which may be lost in a power cut. The next FULL commit (a usage
   * record) makes them durable too, since it syncs the whole WAL.
   */
  relaxedTransaction(fn: () => void): void {
    this.db.pragma('synchronous = NORMAL');
    try {
      this.db.transaction(fn)();
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  /** Writes aggregated telemetry (see TelemetryBuffer) in one relaxed transaction. */
  writeTelemetry(t: { latest: readonly TelemetrySample[]; rollups: readonly TelemetryRollup[] }): void {
    this.relaxedTransaction(() => {
      for (const s of t.latest) this.stmts.telemetryLatest.run(s.node, s.at, JSON.stringify(s));
      for (const r of t.rollups) {
        this.stmts.telemetryRollup.run({ node: r.node, minute: r.minute, samples: r.samples, gu: r.gpuUtilSum, gun: r.gpuUtilSamples, gm: r.gpuMemUsedMibSum, cpu: r.hostCpuSum, cpun: r.hostCpuSamples });
      }
    });
  }

  /** Deletes telemetry rollups older than `before` (epoch ms); returns rows removed. */
  pruneTelemetry(before: number): number {
    return this.db.prepare('DELETE FROM telemetry_rollups WHERE minute < ?').run(Math.floor(before / 60_000)).changes;
  }

  /** Appends to the audit log (never secrets in details). */
  audit(actor: string, action: string, target?: string, details?: Record<string, unknown>): void {
    this.stmts.audit.run(this.iso(), actor, action, target ?? null, details === undefined ? null : JSON.stringify(details));
  }

  /** Records a new infra-repo revision learnt from a push or a webhook. */
  recordRevision(revision: string, ref: string | undefined, source: 'push' | 'webhook'): void {
    this.db.prepare('INSERT INTO repo_revisions (revision, ref, source, received_at) VALUES (?, ?, ?, ?)').run(revision, ref ?? null, source, this.iso());
  }

  /** Every node, by name. */
  nodes(): NodeRow[] {
    const rows = this.db.prepare('SELECT name, status, last_seen_at, agent_version, applied_revision, revoked, age_recipient FROM nodes ORDER BY name').all() as Array<Record<string, unknown>>;
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
  usageRecords(node?: string): UsageRow[] {
    const rows = (node === undefined
      ? this.db.prepare('SELECT node, seq, payload, received_at FROM usage_records ORDER BY node, seq').all()
      : this.db.prepare('SELECT node, seq, payload, received_at FROM usage_records WHERE node = ? ORDER BY seq').all(node)) as Array<{ node: string; seq: number; payload: string; received_at: string }>;
    return rows.map((r) => ({ node: r.node, seq: r.seq, payload: JSON.parse(r.payload) as unknown, receivedAt: r.received_at }));
  }

  /** The latest status a node reported, or undefined. */
  nodeStatus(node: string): { seq: number; payload: unknown } | undefined {
    const row = this.db.prepare('SELECT seq, payload FROM node_status WHERE node = ?').get(node) as { seq: number; payload: string } | undefined;
    return row === undefined ? undefined : { seq: row.seq, payload: JSON.parse(row.payload) as unknown };
  }

  /** Audit entries, oldest first. */
  auditLog(): Array<{ actor: string; action: string; target: string | null }> {
    return this.db.prepare('SELECT actor, action, target FROM audit_log ORDER BY id').all() as Array<{ actor: string; action: string; target: string | null }>;
  }

  /** Checkpoints the WAL and closes the database. */
  close(): void {
    if (!this.db.open) return;
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
  }
}

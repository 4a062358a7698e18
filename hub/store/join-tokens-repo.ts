/**
 * Join tokens, enrollments and the hub's saved identity (tables join_tokens, node_enrollments,
 * hub_identity). The rules (a token's state, its scope) live in hub/enroll/join-tokens.ts; this module
 * only reads and writes rows. Secrets never reach it: only their hashes.
 */
import type { Sql, SqlExecutor } from './sql/sql.js';

/** A join token row (labels parsed). */
export interface StoredJoinToken {
  id: string;
  profile: string;
  /** The one node name it may enroll, or null for any. */
  node: string | null;
  labels: Record<string, string>;
  maxUses: number;
  uses: number;
  expiresAt: string;
  revoked: boolean;
  createdBy: string;
  createdAt: string;
}

/** A new token as stored. */
export interface NewJoinToken {
  id: string;
  tokenHash: string;
  profile: string;
  node: string | null;
  labels: Record<string, string>;
  maxUses: number;
  expiresAt: string;
  createdBy: string;
  createdAt: string;
}

/** One enrolled node's enrollment facts. */
export interface StoredEnrollment {
  node: string;
  tokenId: string;
  hostname: string;
  profile: string;
  labels: Record<string, string>;
  enrolledAt: string;
  nodeFile: string | null;
}

/** What reserve() writes once the caller's check passed. */
export interface ReservationRows {
  node: string;
  hostname: string;
  inventory: unknown;
  credentialHash: string;
  at: string;
}

/** Join tokens and enrollments in the store. */
export interface JoinTokensRepo {
  /** Stores a new token. */
  create(t: NewJoinToken): Promise<void>;
  /** Every token, newest first (ties by id). */
  list(): Promise<StoredJoinToken[]>;
  /** The token with this hash, or undefined. */
  byHash(tokenHash: string): Promise<StoredJoinToken | undefined>;
  /** Revokes a token; false when there is no such id. */
  revoke(id: string): Promise<boolean>;
  /**
   * In one transaction: reads the token of `tokenHash` (locked on PostgreSQL) and whether `rows.node`
   * exists, lets `check` throw to refuse (nothing changes then), else counts the use, creates the node
   * with the credential hash and records the enrollment. Returns the token as it was read.
   */
  reserve(tokenHash: string, rows: ReservationRows, check: (token: StoredJoinToken | undefined, nodeExists: boolean) => void): Promise<StoredJoinToken>;
  /** Undoes a reservation in one transaction: enrollment and node deleted, the token's use given back. */
  release(node: string, tokenId: string): Promise<void>;
  /** Records where the node file went. */
  setNodeFile(node: string, nodeFile: string): Promise<void>;
  /** Every enrollment, by node. */
  enrollments(): Promise<StoredEnrollment[]>;
  /** Saves the hub's public URL and TLS pin (one row). */
  saveIdentity(identity: { url: string | undefined; pin: string | undefined }, at: string): Promise<void>;
  /** The identity last saved (both undefined before the first). */
  identity(): Promise<{ url: string | undefined; pin: string | undefined }>;
}

const TOKEN_COLUMNS = 'id, profile, node, labels, max_uses, uses, expires_at, revoked, created_by, created_at';

interface TokenRow {
  id: string;
  profile: string;
  node: string | null;
  labels: string;
  max_uses: number;
  uses: number;
  expires_at: string;
  revoked: number;
  created_by: string;
  created_at: string;
}

function toToken(r: TokenRow): StoredJoinToken {
  return {
    id: r.id,
    profile: r.profile,
    node: r.node ?? null,
    labels: JSON.parse(r.labels) as Record<string, string>,
    maxUses: Number(r.max_uses),
    uses: Number(r.uses),
    expiresAt: r.expires_at,
    revoked: Number(r.revoked) === 1,
    createdBy: r.created_by,
    createdAt: r.created_at,
  };
}

/** JoinTokensRepo over Sql (SQLite or PostgreSQL). */
export class SqlJoinTokensRepo implements JoinTokensRepo {
  constructor(private readonly sql: Sql) {}

  async create(t: NewJoinToken): Promise<void> {
    await this.sql.run('INSERT INTO join_tokens (id, token_hash, profile, node, labels, max_uses, expires_at, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [
      t.id, t.tokenHash, t.profile, t.node, JSON.stringify(t.labels), t.maxUses, t.expiresAt, t.createdBy, t.createdAt,
    ]);
  }

  async list(): Promise<StoredJoinToken[]> {
    return (await this.sql.all<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM join_tokens ORDER BY created_at DESC, id`)).map(toToken);
  }

  async byHash(tokenHash: string): Promise<StoredJoinToken | undefined> {
    const r = await this.sql.get<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM join_tokens WHERE token_hash = ?`, [tokenHash]);
    return r === undefined ? undefined : toToken(r);
  }

  async revoke(id: string): Promise<boolean> {
    return (await this.sql.run('UPDATE join_tokens SET revoked = 1 WHERE id = ?', [id])).changes > 0;
  }

  reserve(tokenHash: string, rows: ReservationRows, check: (token: StoredJoinToken | undefined, nodeExists: boolean) => void): Promise<StoredJoinToken> {
    return this.sql.tx(async (tx) => {
      // SQLite's transaction already holds the write lock; PostgreSQL locks the token row so two
      // enrollments on two replicas cannot both take its last use.
      const lock = tx.dialect === 'postgres' ? ' FOR UPDATE' : '';
      const r = await tx.get<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM join_tokens WHERE token_hash = ?${lock}`, [tokenHash]);
      const token = r === undefined ? undefined : toToken(r);
      const nodeExists = (await tx.get('SELECT 1 AS x FROM nodes WHERE name = ?', [rows.node])) !== undefined;
      check(token, nodeExists);
      if (token === undefined) throw new Error('join token check passed an unknown token');
      await tx.run('UPDATE join_tokens SET uses = uses + 1 WHERE id = ?', [token.id]);
      await tx.run('INSERT INTO nodes (name, credential_hash, created_at) VALUES (?, ?, ?)', [rows.node, rows.credentialHash, rows.at]);
      await tx.run('INSERT INTO node_enrollments (node, token_id, hostname, profile, labels, inventory, enrolled_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
        rows.node, token.id, rows.hostname, token.profile, JSON.stringify(token.labels), JSON.stringify(rows.inventory), rows.at,
      ]);
      return token;
    });
  }

  release(node: string, tokenId: string): Promise<void> {
    return this.sql.tx(async (tx: SqlExecutor) => {
      await tx.run('DELETE FROM node_enrollments WHERE node = ?', [node]);
      await tx.run('DELETE FROM nodes WHERE name = ?', [node]);
      await tx.run('UPDATE join_tokens SET uses = uses - 1 WHERE id = ? AND uses > 0', [tokenId]);
    });
  }

  async setNodeFile(node: string, nodeFile: string): Promise<void> {
    await this.sql.run('UPDATE node_enrollments SET node_file = ? WHERE node = ?', [nodeFile, node]);
  }

  async enrollments(): Promise<StoredEnrollment[]> {
    const rows = await this.sql.all<{ node: string; token_id: string; hostname: string; profile: string; labels: string; enrolled_at: string; node_file: string | null }>(
      'SELECT node, token_id, hostname, profile, labels, enrolled_at, node_file FROM node_enrollments ORDER BY node',
    );
    return rows.map((r) => ({ node: r.node, tokenId: r.token_id, hostname: r.hostname, profile: r.profile, labels: JSON.parse(r.labels) as Record<string, string>, enrolledAt: r.enrolled_at, nodeFile: r.node_file ?? null }));
  }

  async saveIdentity(identity: { url: string | undefined; pin: string | undefined }, at: string): Promise<void> {
    await this.sql.run(
      'INSERT INTO hub_identity (id, url, tls_pin, updated_at) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET url = excluded.url, tls_pin = excluded.tls_pin, updated_at = excluded.updated_at',
      [identity.url ?? null, identity.pin ?? null, at],
    );
  }

  async identity(): Promise<{ url: string | undefined; pin: string | undefined }> {
    const r = await this.sql.get<{ url: string | null; tls_pin: string | null }>('SELECT url, tls_pin FROM hub_identity WHERE id = 1');
    return { url: r?.url ?? undefined, pin: r?.tls_pin ?? undefined };
  }
}

/**
 * API tokens in the store, by the hash of their secret (the secret is never stored): role, tenant,
 * scopes, expiry, the user a short-lived token acts for, revocation and last use. Finding a token is one
 * query, as it runs on every API call and every uncached app request.
 */
import type { Sql } from './sql/sql.js';

/** Where a token works: the hub's API, or workspace apps through the ingress. */
export type ApiTokenScope = 'api' | 'apps';

/** An API token as listed (never its hash). */
export interface ApiTokenRow {
  id: string;
  label: string;
  role: 'admin' | 'tenant';
  tenant: string | null;
  scopes: ApiTokenScope[];
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
  revoked: boolean;
  /** When a short-lived token stops working; null for long-lived tokens. */
  expiresAt: string | null;
  /** The user a short-lived token acts for; null for automation tokens. */
  user: string | null;
}

/** A new token: its row as created, and the hash of its secret. */
export type NewApiToken = Omit<ApiTokenRow, 'lastUsedAt' | 'revoked'> & { tokenHash: string };

/** The API tokens of the store. */
export interface ApiTokensRepo {
  /** Stores a new token; returns its row. */
  insert(t: NewApiToken): Promise<ApiTokenRow>;
  /** The unrevoked token whose secret hashes to `tokenHash` (expiry and scope are the caller's to check). */
  byHash(tokenHash: string): Promise<ApiTokenRow | undefined>;
  /** Records a use of the token at `at`. */
  touch(id: string, at: string): Promise<void>;
  /** Tokens, newest first; only `tenant`'s when given. */
  list(tenant?: string): Promise<ApiTokenRow[]>;
  /** One token by id. */
  get(id: string): Promise<ApiTokenRow | undefined>;
  /** Revokes a token; false when there is none. */
  revoke(id: string): Promise<boolean>;
}

type Raw = { id: string; label: string; role: 'admin' | 'tenant'; tenant: string | null; scope: string; created_by: string; created_at: string; last_used_at: string | null; revoked: number; expires_at: string | null; user: string | null };
const COLUMNS = 'id, label, role, tenant, scope, created_by, created_at, last_used_at, revoked, expires_at, "user"';
const toRow = (r: Raw): ApiTokenRow => ({
  id: r.id, label: r.label, role: r.role, tenant: r.tenant, scopes: r.scope.split(' ') as ApiTokenScope[], createdBy: r.created_by, createdAt: r.created_at, lastUsedAt: r.last_used_at, revoked: r.revoked === 1,
  expiresAt: r.expires_at, user: r.user,
});

/** ApiTokensRepo over the Sql interface. */
export class SqlApiTokensRepo implements ApiTokensRepo {
  constructor(private readonly sql: Sql) {}

  async insert(t: NewApiToken): Promise<ApiTokenRow> {
    const r = await this.sql.get<Raw>(
      `INSERT INTO api_tokens (id, label, token_hash, role, tenant, scope, created_by, created_at, expires_at, "user") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${COLUMNS}`,
      [t.id, t.label, t.tokenHash, t.role, t.tenant, t.scopes.join(' '), t.createdBy, t.createdAt, t.expiresAt, t.user],
    );
    return toRow(r!);
  }

  async byHash(tokenHash: string): Promise<ApiTokenRow | undefined> {
    const r = await this.sql.get<Raw>(`SELECT ${COLUMNS} FROM api_tokens WHERE token_hash = ? AND revoked = 0`, [tokenHash]);
    return r === undefined ? undefined : toRow(r);
  }

  async touch(id: string, at: string): Promise<void> {
    await this.sql.run('UPDATE api_tokens SET last_used_at = ? WHERE id = ?', [at, id]);
  }

  async list(tenant?: string): Promise<ApiTokenRow[]> {
    const rows = tenant === undefined
      ? await this.sql.all<Raw>(`SELECT ${COLUMNS} FROM api_tokens ORDER BY created_at DESC, id`)
      : await this.sql.all<Raw>(`SELECT ${COLUMNS} FROM api_tokens WHERE tenant = ? ORDER BY created_at DESC, id`, [tenant]);
    return rows.map(toRow);
  }

  async get(id: string): Promise<ApiTokenRow | undefined> {
    const r = await this.sql.get<Raw>(`SELECT ${COLUMNS} FROM api_tokens WHERE id = ?`, [id]);
    return r === undefined ? undefined : toRow(r);
  }

  async revoke(id: string): Promise<boolean> {
    return (await this.sql.run('UPDATE api_tokens SET revoked = 1 WHERE id = ?', [id])).changes === 1;
  }
}

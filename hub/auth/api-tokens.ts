/**
 * API tokens for automation: `fapi_...`, of role `admin` or `tenant` (one tenant), stored hashed, listed
 * without the secret, revocable. Used as `Authorization: Bearer <token>`; never subject to CSRF checks
 * because a browser never sends them on its own. A token's scopes say where it works: `api` (the hub's
 * API) and/or `apps` (workspace apps through the ingress), so a key pasted into a script that calls a
 * model cannot also delete workspaces. Short-lived tokens of SSO users expire and name their user (whose
 * access is checked again at each use).
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { FoundryError } from '../../common/errors.js';
import { hashSecret, newSecret } from './secrets.js';

/** Prefix of API tokens. */
export const API_TOKEN_PREFIX = 'fapi';

/** Where a token works: the hub's API, or workspace apps through the ingress. */
export type ApiTokenScope = 'api' | 'apps';
/** Every scope, in the stored order. */
export const API_TOKEN_SCOPES: readonly ApiTokenScope[] = ['api', 'apps'];

/** An API token as listed. */
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

type Raw = { id: string; label: string; role: 'admin' | 'tenant'; tenant: string | null; scope: string; created_by: string; created_at: string; last_used_at: string | null; revoked: number; expires_at: string | null; user: string | null };
const toRow = (r: Raw): ApiTokenRow => ({
  id: r.id, label: r.label, role: r.role, tenant: r.tenant, scopes: r.scope.split(' ') as ApiTokenScope[], createdBy: r.created_by, createdAt: r.created_at, lastUsedAt: r.last_used_at, revoked: r.revoked === 1,
  expiresAt: r.expires_at, user: r.user,
});

// Authentication runs on every API call and on every uncached app request: its statements are prepared once per database.
const statements = new WeakMap<Database.Database, { byHash: Database.Statement; touch: Database.Statement }>();
function prepared(db: Database.Database) {
  let s = statements.get(db);
  if (s === undefined) {
    s = { byHash: db.prepare('SELECT * FROM api_tokens WHERE token_hash = ? AND revoked = 0'), touch: db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?') };
    statements.set(db, s);
  }
  return s;
}

/** Creates a token (scopes default to `api`); returns its row and the secret (shown once). */
export function createApiToken(db: Database.Database, spec: { label: string; role: 'admin' | 'tenant'; tenant?: string; scopes?: readonly ApiTokenScope[]; createdBy: string; expiresAt?: Date; user?: string }, now: Date): { token: string; row: ApiTokenRow } {
  const token = newSecret(API_TOKEN_PREFIX);
  const id = randomBytes(6).toString('hex');
  const scopes = API_TOKEN_SCOPES.filter((s) => (spec.scopes ?? ['api']).includes(s));
  if (scopes.length === 0) throw new FoundryError('BAD_REQUEST', `an api token needs at least one scope of ${API_TOKEN_SCOPES.join(', ')}`, { resource: spec.label });
  db.prepare('INSERT INTO api_tokens (id, label, token_hash, role, tenant, scope, created_by, created_at, expires_at, user) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
    id,
    spec.label,
    hashSecret(token),
    spec.role,
    spec.role === 'tenant' ? (spec.tenant ?? null) : null,
    scopes.join(' '),
    spec.createdBy,
    now.toISOString(),
    spec.expiresAt?.toISOString() ?? null,
    spec.user ?? null,
  );
  return { token, row: toRow(db.prepare('SELECT * FROM api_tokens WHERE id = ?').get(id) as Raw) };
}

/** The token's row when valid, unexpired and its scopes include `scope` (recording its use, at most once a minute), else undefined. */
export function authenticateApiToken(db: Database.Database, token: string, now: Date, scope: ApiTokenScope = 'api'): ApiTokenRow | undefined {
  if (!token.startsWith(`${API_TOKEN_PREFIX}_`)) return undefined;
  const s = prepared(db);
  const r = s.byHash.get(hashSecret(token)) as Raw | undefined;
  if (r === undefined || !r.scope.split(' ').includes(scope)) return undefined;
  if (r.expires_at !== null && Date.parse(r.expires_at) <= now.getTime()) return undefined;
  if (r.last_used_at === null || now.getTime() - Date.parse(r.last_used_at) > 60_000) s.touch.run(now.toISOString(), r.id);
  return toRow(r);
}

/** Tokens, newest first; only `tenant`'s when given. */
export function listApiTokens(db: Database.Database, tenant?: string): ApiTokenRow[] {
  const rows = (tenant === undefined ? db.prepare('SELECT * FROM api_tokens ORDER BY created_at DESC, id').all() : db.prepare('SELECT * FROM api_tokens WHERE tenant = ? ORDER BY created_at DESC, id').all(tenant)) as Raw[];
  return rows.map(toRow);
}

/** One token by id. */
export function getApiToken(db: Database.Database, id: string): ApiTokenRow | undefined {
  const r = db.prepare('SELECT * FROM api_tokens WHERE id = ?').get(id) as Raw | undefined;
  return r === undefined ? undefined : toRow(r);
}

/** Revokes a token; false when there is none. */
export function revokeApiToken(db: Database.Database, id: string): boolean {
  return db.prepare('UPDATE api_tokens SET revoked = 1 WHERE id = ?').run(id).changes === 1;
}

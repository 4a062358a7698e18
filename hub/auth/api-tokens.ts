/**
 * API tokens for automation: `fapi_...`, of role `admin` or `tenant` (one tenant), stored hashed, listed
 * without the secret, revocable. Used as `Authorization: Bearer <token>`; never subject to CSRF checks
 * because a browser never sends them on its own. A token's scopes say where it works: `api` (the hub's
 * API) and/or `apps` (workspace apps through the ingress), so a key pasted into a script that calls a
 * model cannot also delete workspaces. Short-lived tokens of SSO users expire and name their user (whose
 * access is checked again at each use).
 */
import { randomBytes } from 'node:crypto';
import { FoundryError } from '../../common/errors.js';
import type { ApiTokenRow, ApiTokenScope, ApiTokensRepo } from '../store/api-tokens-repo.js';
import { hashSecret, newSecret } from './secrets.js';

/** Prefix of API tokens. */
export const API_TOKEN_PREFIX = 'fapi';

export type { ApiTokenRow, ApiTokenScope } from '../store/api-tokens-repo.js';

/** Every scope, in the stored order. */
export const API_TOKEN_SCOPES: readonly ApiTokenScope[] = ['api', 'apps'];

/** Creates a token (scopes default to `api`); returns its row and the secret (shown once). */
export async function createApiToken(tokens: ApiTokensRepo, spec: { label: string; role: 'admin' | 'tenant'; tenant?: string; scopes?: readonly ApiTokenScope[]; createdBy: string; expiresAt?: Date; user?: string }, now: Date): Promise<{ token: string; row: ApiTokenRow }> {
  const token = newSecret(API_TOKEN_PREFIX);
  const scopes = API_TOKEN_SCOPES.filter((s) => (spec.scopes ?? ['api']).includes(s));
  if (scopes.length === 0) throw new FoundryError('BAD_REQUEST', `an api token needs at least one scope of ${API_TOKEN_SCOPES.join(', ')}`, { resource: spec.label });
  const row = await tokens.insert({
    id: randomBytes(6).toString('hex'),
    label: spec.label,
    tokenHash: hashSecret(token),
    role: spec.role,
    tenant: spec.role === 'tenant' ? (spec.tenant ?? null) : null,
    scopes,
    createdBy: spec.createdBy,
    createdAt: now.toISOString(),
    expiresAt: spec.expiresAt?.toISOString() ?? null,
    user: spec.user ?? null,
  });
  return { token, row };
}

/**
 * The token's row when valid, unexpired and its scopes include `scope` (recording its use, at most once a
 * minute), else undefined. Runs on every API call: one query, plus a write at most once a minute.
 */
export async function authenticateApiToken(tokens: ApiTokensRepo, token: string, now: Date, scope: ApiTokenScope = 'api'): Promise<ApiTokenRow | undefined> {
  if (!token.startsWith(`${API_TOKEN_PREFIX}_`)) return undefined;
  const r = await tokens.byHash(hashSecret(token));
  if (r === undefined || !r.scopes.includes(scope)) return undefined;
  if (r.expiresAt !== null && Date.parse(r.expiresAt) <= now.getTime()) return undefined;
  if (r.lastUsedAt === null || now.getTime() - Date.parse(r.lastUsedAt) > 60_000) await tokens.touch(r.id, now.toISOString());
  return r;
}

/** Tokens, newest first; only `tenant`'s when given. */
export function listApiTokens(tokens: ApiTokensRepo, tenant?: string): Promise<ApiTokenRow[]> {
  return tokens.list(tenant);
}

/** One token by id. */
export function getApiToken(tokens: ApiTokensRepo, id: string): Promise<ApiTokenRow | undefined> {
  return tokens.get(id);
}

/** Revokes a token; false when there is none. */
export function revokeApiToken(tokens: ApiTokensRepo, id: string): Promise<boolean> {
  return tokens.revoke(id);
}

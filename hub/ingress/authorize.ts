/**
 * The ingress's question for every uncached app request: may this credential use this app? Answers
 * 204 (with tenant and principal), 401 (no credential, or an invalid or expired one), 403 (a valid
 * credential of someone not allowed on the workspace's tenant) or 404 (no such app). Credentials: a
 * tenant or admin API token with the `apps` scope (`Authorization: Bearer fapi_...`), else the app-session
 * cookie `foundry_app`. An Authorization header that is no API token is the app's business and ignored.
 */
import type { ApiTokensRepo } from '../store/api-tokens-repo.js';
import type { UsersRepo } from '../store/users-repo.js';
import { parseAppHost } from '../../common/ingress/app-host.js';
import type { AppsUrl } from '../../common/ingress/apps-url.js';
import { API_TOKEN_PREFIX, authenticateApiToken } from '../auth/api-tokens.js';
import { sessionPrincipal, tokenPrincipal, type UserAccess } from '../auth/dashboard-auth.js';
import { canAccessTenant, type Principal } from '../auth/principal.js';
import { tokenFromAuthorization } from '../auth/secrets.js';
import type { AppIndex, WorkspaceApps } from './app-index.js';
import type { AppSessions } from './app-sessions.js';

/** What the ingress passes on: the app host, the client's Authorization header and app-session cookie. */
export interface AuthzRequest {
  host: string | undefined;
  authorization: string | undefined;
  appCookie: string | undefined;
}

/** The decision. `principal` is for the ingress's log and the app: `user:NAME` or `token:ID`, never a secret. */
export type AuthzDecision =
  | { status: 204; tenant: string; principal: string; workspace: WorkspaceApps }
  | { status: 401 | 403 | 404; why: string };

/** Collaborators of the authorizer. */
export interface AuthorizerDeps {
  /** The store's users and API tokens (HubStore.users, .apiTokens). */
  users: UsersRepo;
  apiTokens: ApiTokensRepo;
  apps: AppsUrl;
  index: AppIndex;
  sessions: AppSessions;
  /** The one rule for who may still act (SSO users: their provider's current mapping); app.userAccess. */
  access: UserAccess;
  now: () => Date;
}

/** Decides one request; never throws for bad input. */
export async function authorize(deps: AuthorizerDeps, req: AuthzRequest): Promise<AuthzDecision> {
  const parts = parseAppHost(req.host, deps.apps.domain);
  if (parts === undefined) return { status: 404, why: 'not an app host' };
  const ws = await deps.index.workspace(parts.workspace);
  if (ws === undefined || !ws.apps.has(parts.app)) return { status: 404, why: 'no such app' };
  const host = parts.app + '--' + parts.workspace;
  const who = await credentialPrincipal(deps, req, host);
  if (who === undefined) return { status: 401, why: 'no credential' };
  if ('invalid' in who) return { status: 401, why: who.invalid };
  if (!canAccessTenant(who.principal, ws.tenant)) return { status: 403, why: 'another tenant' };
  return { status: 204, tenant: ws.tenant, principal: who.label, workspace: ws };
}

async function credentialPrincipal(deps: AuthorizerDeps, req: AuthzRequest, host: string): Promise<{ principal: Principal; label: string } | { invalid: string } | undefined> {
  const now = deps.now();
  const token = tokenFromAuthorization(req.authorization);
  if (token !== undefined && token.startsWith(`${API_TOKEN_PREFIX}_`)) {
    const row = await authenticateApiToken(deps.apiTokens, token, now, 'apps');
    const p = row === undefined ? undefined : await tokenPrincipal(deps.users, row, deps.access);
    return row === undefined || p === undefined ? { invalid: 'unknown, revoked, expired or out-of-scope api token' } : { principal: p, label: `token:${row.id}` };
  }
  if (req.appCookie === undefined || req.appCookie === '') return undefined;
  const s = await deps.sessions.find(req.appCookie, host, now);
  const p = s === undefined ? undefined : await sessionPrincipal(deps.users, { user: s.user, ssoProvider: s.ssoProvider }, deps.access);
  return s === undefined || p === undefined ? { invalid: 'unknown or expired app session' } : { principal: p, label: `user:${s.user}` };
}

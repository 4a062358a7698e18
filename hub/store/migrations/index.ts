/** The hub store's migrations, in order. Forward-only: never edit a shipped one, add the next file. */
import { sql as initial } from './0001-initial.js';
import { sql as joinTokens } from './0010-join-tokens.js';
import { sql as users } from './0020-users.js';
import { sql as workspaces } from './0030-workspaces.js';
import { sql as billing, postgres as billingPg } from './0031-billing.js';
import { sql as billingLateUsage, postgres as billingLateUsagePg } from './0035-billing-late-usage.js';
import { sql as usageRefusals } from './0036-usage-refusals.js';
import { sql as joinTokenNode } from './0037-join-token-node.js';
import { sql as nodeAgeRecipient } from './0038-node-age-recipient.js';
import { sql as volumeKeys } from './0052-volume-keys.js';
import { sql as usageLateRanges, postgres as usageLateRangesPg } from './0054-usage-late-ranges.js';
import { sql as workspaceSecrets } from './0040-workspace-secrets.js';
import { sql as apiTokenScope } from './0042-api-token-scope.js';
import { sql as appSessions } from './0043-app-sessions.js';
import { sql as ssoRoles } from './0044-sso-roles.js';
import { sql as ssoLogins } from './0045-sso-logins.js';
import { sql as samlCaches } from './0046-saml-caches.js';
import { sql as samlSessions } from './0047-saml-sessions.js';

/** One schema migration. */
export interface Migration {
  version: number;
  name: string;
  /** The SQLite text. */
  sql: string;
  /** The PostgreSQL text, where the SQLite one is not plain DDL (see hub/store/sql/postgres-ddl.ts). */
  postgres?: string;
}

/** Every migration, ascending by version. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial', sql: initial },
  { version: 10, name: 'join-tokens', sql: joinTokens },
  { version: 20, name: 'users', sql: users },
  { version: 30, name: 'workspaces', sql: workspaces },
  { version: 31, name: 'billing', sql: billing, postgres: billingPg },
  { version: 35, name: 'billing-late-usage', sql: billingLateUsage, postgres: billingLateUsagePg },
  { version: 36, name: 'usage-refusals', sql: usageRefusals },
  { version: 37, name: 'join-token-node', sql: joinTokenNode },
  { version: 38, name: 'node-age-recipient', sql: nodeAgeRecipient },
  { version: 40, name: 'workspace-secrets', sql: workspaceSecrets },
  { version: 42, name: 'api-token-scope', sql: apiTokenScope },
  { version: 43, name: 'app-sessions', sql: appSessions },
  { version: 44, name: 'sso-roles', sql: ssoRoles },
  { version: 45, name: 'sso-logins', sql: ssoLogins },
  { version: 46, name: 'saml-caches', sql: samlCaches },
  { version: 47, name: 'saml-sessions', sql: samlSessions },
  { version: 52, name: 'volume-keys', sql: volumeKeys },
  { version: 54, name: 'usage-late-ranges', sql: usageLateRanges, postgres: usageLateRangesPg },
];

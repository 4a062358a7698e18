/**
 * sessionPrincipal and tokenPrincipal: the one rule for a user's session and short-lived token, wherever
 * they are used (the hub's API and dashboard here; the workspace app gateway's app sessions ride on it).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeBackends, openTestSql, type TestSql } from '../../test/support/store-backends.js';
import { SqlApiTokensRepo } from '../store/api-tokens-repo.js';
import { SqlUsersRepo } from '../store/users-repo.js';
import { createApiToken, getApiToken } from './api-tokens.js';
import { sessionPrincipal, tokenPrincipal, type UserAccess } from './dashboard-auth.js';
import { createUser, enableTotp, upsertSsoUser, type User } from './users.js';

const now = new Date('2026-12-07T12:00:00Z');
// The access check as the directory answers it: SSO users of a provider whose mapping is gone have none.
const mapped = new Set(['acme-sso']);
const access: UserAccess = async (user: User) => user.sso === undefined || mapped.has(user.sso.provider);

describeBackends('session and token principals', (backend) => {
  let db: TestSql;
  let store: { users: SqlUsersRepo; apiTokens: SqlApiTokensRepo };
  beforeEach(async () => {
    db = await openTestSql(backend);
    store = { users: new SqlUsersRepo(db.sql), apiTokens: new SqlApiTokensRepo(db.sql) };
  });
  afterEach(async () => db?.close());
  const ssoUser = async () => (await upsertSsoUser(store.users, { provider: 'acme-sso', subject: 's1', nameHint: 'alice@acme.example', groups: ['acme-admins'] }, { role: 'tenant', tenant: 'acme', tenantRole: 'admin' }, now)).user;

  describe('sessionPrincipal', () => {
    it('gives an SSO session (no local TOTP needed) its tenant and tenant role while the mapping lasts', async () => {
      const user = await ssoUser();
      expect(await sessionPrincipal(store.users, { user: user.name, ssoProvider: 'acme-sso' }, access)).toEqual({ role: 'tenant', subject: 'alice.acme-sso', tenant: 'acme', tenantRole: 'admin', via: 'session' });
      mapped.delete('acme-sso');
      try {
        expect(await sessionPrincipal(store.users, { user: user.name, ssoProvider: 'acme-sso' }, access)).toBeUndefined();
      } finally {
        mapped.add('acme-sso');
      }
    });

    it('refuses an SSO user on a session of another provider or a local session, and a local user without TOTP', async () => {
      const user = await ssoUser();
      expect(await sessionPrincipal(store.users, { user: user.name, ssoProvider: 'other-sso' }, access)).toBeUndefined();
      expect(await sessionPrincipal(store.users, { user: user.name, ssoProvider: null }, access)).toBeUndefined();
      await createUser(store.users, { name: 'ada', role: 'admin' }, 'one-time-password-1', now);
      expect(await sessionPrincipal(store.users, { user: 'ada', ssoProvider: null }, access)).toBeUndefined();
      await enableTotp(store.users, 'ada');
      expect(await sessionPrincipal(store.users, { user: 'ada', ssoProvider: null }, access)).toEqual({ role: 'admin', subject: 'ada', via: 'session' });
      expect(await sessionPrincipal(store.users, { user: 'gone', ssoProvider: null }, access)).toBeUndefined();
    });
  });

  describe('tokenPrincipal', () => {
    it("acts as a short-lived token's user while that user keeps access; automation tokens by their own role", async () => {
      const user = await ssoUser();
      const short = (await createApiToken(store.apiTokens, { label: `session:${user.name}`, role: 'tenant', tenant: 'acme', createdBy: `tenant:${user.name}`, expiresAt: new Date(now.getTime() + 3600_000), user: user.name }, now)).row;
      expect(await tokenPrincipal(store.users, short, access)).toEqual({ role: 'tenant', subject: 'alice.acme-sso', tenant: 'acme', tenantRole: 'admin', via: 'api-token' });
      mapped.delete('acme-sso');
      try {
        expect(await tokenPrincipal(store.users, short, access)).toBeUndefined();
      } finally {
        mapped.add('acme-sso');
      }
      const ci = (await createApiToken(store.apiTokens, { label: 'acme-ci', role: 'tenant', tenant: 'acme', createdBy: 'admin:ada' }, now)).row;
      expect(await tokenPrincipal(store.users, (await getApiToken(store.apiTokens, ci.id)) ?? ci, access)).toEqual({ role: 'tenant', subject: 'token:acme-ci', tenant: 'acme', via: 'api-token' });
    });
  });
});

/** Single sign-on users and short-lived API tokens, on both store backends. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeBackends, openTestSql, type TestSql } from '../../test/support/store-backends.js';
import { SqlApiTokensRepo } from '../store/api-tokens-repo.js';
import { SqlSessionsRepo } from '../store/sessions-repo.js';
import { SqlUsersRepo } from '../store/users-repo.js';
import { authenticateApiToken, createApiToken } from './api-tokens.js';
import { openSession } from './sessions.js';
import { checkPassword, createUser, findSsoUser, getUser, ssoUserName, upsertSsoUser } from './users.js';

const now = new Date('2026-12-07T12:00:00Z');
const member = { role: 'tenant', tenant: 'acme', tenantRole: 'member' } as const;

describe('SSO user names', () => {
  it('derives a safe name from the hint, suffixed with the provider', () => {
    expect(ssoUserName('Alice.Smith+x@acme.example', 'acme-entra')).toBe('alice.smith-x.acme-entra');
    expect(ssoUserName('../../etc/passwd', 'p')).toBe('etc-passwd.p');
    expect(ssoUserName('@@@', 'p')).toBe('user.p');
    expect(ssoUserName('a'.repeat(300), 'x'.repeat(63)).length).toBeLessThanOrEqual(64);
  });
});

describeBackends('SSO users', (backend) => {
  let db: TestSql;
  let users: SqlUsersRepo;
  beforeEach(async () => {
    db = await openTestSql(backend);
    users = new SqlUsersRepo(db.sql);
  });
  afterEach(async () => db?.close());

  it('never takes over a local user of the same name, and links by provider and subject, not name or e-mail', async () => {
    await createUser(users, { name: 'alice.acme', role: 'admin' }, 'one-time-password-1', now);
    const first = await upsertSsoUser(users, { provider: 'acme', subject: 's1', nameHint: 'alice@acme.example', groups: ['g'] }, member, now);
    expect(first).toMatchObject({ created: true, user: { name: 'alice.acme-2', role: 'tenant', tenant: 'acme', tenantRole: 'member', sso: { provider: 'acme', subject: 's1', groups: ['g'] } } });
    expect(await getUser(users, 'alice.acme')).toMatchObject({ role: 'admin' });
    // Same subject, new e-mail and groups: the same user, updated.
    const again = await upsertSsoUser(users, { provider: 'acme', subject: 's1', nameHint: 'renamed@acme.example', groups: ['h'] }, { role: 'tenant', tenant: 'acme', tenantRole: 'admin' }, now);
    expect(again).toMatchObject({ created: false, user: { name: 'alice.acme-2', tenantRole: 'admin', sso: { groups: ['h'] } } });
    // Same subject at another provider: another user.
    expect((await upsertSsoUser(users, { provider: 'other', subject: 's1', nameHint: 'alice@acme.example', groups: [] }, member, now)).created).toBe(true);
    expect((await findSsoUser(users, 'acme', 's1'))?.name).toBe('alice.acme-2');
  });

  it('has no password: no password logs an SSO user in locally', async () => {
    await upsertSsoUser(users, { provider: 'acme', subject: 's1', nameHint: 'bob', groups: [] }, member, now);
    expect(await checkPassword(users, 'bob.acme', '!sso')).toBeUndefined();
    expect(await checkPassword(users, 'bob.acme', '')).toBeUndefined();
  });

  it('ends the sessions of a user whose role or tenant changes', async () => {
    const { user } = await upsertSsoUser(users, { provider: 'acme', subject: 's1', nameHint: 'bob', groups: [] }, member, now);
    await openSession(new SqlSessionsRepo(db.sql), user.name, undefined, now, { provider: 'acme' });
    const count = async () => (await db.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM sessions'))?.n;
    await upsertSsoUser(users, { provider: 'acme', subject: 's1', nameHint: 'bob', groups: [] }, member, now);
    expect(await count()).toBe(1);
    await upsertSsoUser(users, { provider: 'acme', subject: 's1', nameHint: 'bob', groups: [] }, { role: 'admin' }, now);
    expect(await count()).toBe(0);
  });

  it('short-lived API tokens stop working at their expiry', async () => {
    const tokens = new SqlApiTokensRepo(db.sql);
    const { token } = await createApiToken(tokens, { label: 'session:bob', role: 'tenant', tenant: 'acme', createdBy: 'tenant:bob', expiresAt: new Date(now.getTime() + 3600_000), user: 'bob' }, now);
    expect(await authenticateApiToken(tokens, token, new Date(now.getTime() + 3599_000))).toMatchObject({ user: 'bob', expiresAt: '2026-12-07T13:00:00.000Z' });
    expect(await authenticateApiToken(tokens, token, new Date(now.getTime() + 3600_000))).toBeUndefined();
  });
});

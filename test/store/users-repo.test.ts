/** UsersRepo on both backends: local users, second factors, recovery codes, SSO users and their sessions. */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeBackends, openTestSql, type TestSql } from '../support/store-backends.js';
import { SqlUsersRepo, type NewUser, type SsoUserSpec } from '../../hub/store/users-repo.js';
import { SqlSessionsRepo } from '../../hub/store/sessions-repo.js';

const AT = '2026-12-07T12:00:00.000Z';
const ada: NewUser = { name: 'ada', role: 'admin', tenant: null, tenantRole: 'member', passwordHash: 'scrypt$ada', createdAt: AT };
const tom: NewUser = { name: 'tom', role: 'tenant', tenant: 'acme', tenantRole: 'admin', passwordHash: 'scrypt$tom', createdAt: AT };
const alice: SsoUserSpec = {
  provider: 'acme-sso', subject: 's1', email: 'alice@acme.example', displayName: 'Alice', groups: ['g1', 'g2'],
  role: 'tenant', tenant: 'acme', tenantRole: 'member', passwordMarker: '!sso', createdAt: AT,
};
const names = (attempt: number) => (attempt === 1 ? 'alice.acme-sso' : `alice.acme-sso-${attempt}`);

describeBackends('users repo', (backend) => {
  let db: TestSql;
  let users: SqlUsersRepo;
  beforeEach(async () => {
    db = await openTestSql(backend);
    users = new SqlUsersRepo(db.sql);
  });
  afterEach(async () => db?.close());

  it('creates a local user once and reads it back with its flags as booleans', async () => {
    expect(await users.create(ada)).toBe(true);
    expect(await users.create({ ...ada, passwordHash: 'other' })).toBe(false);
    expect(await users.get('ada')).toEqual({
      name: 'ada', role: 'admin', tenant: null, tenantRole: 'member', passwordHash: 'scrypt$ada', mustChangePassword: true,
      totpSecret: null, totpEnabled: false, totpLastStep: 0, createdAt: AT,
    });
    expect(await users.get('nobody')).toBeUndefined();
  });

  it('lists every user by name, or one tenant\'s tenant users', async () => {
    await users.create(tom);
    await users.create(ada);
    await users.create({ ...tom, name: 'gus', tenant: 'globex' });
    expect((await users.list()).map((u) => u.name)).toEqual(['ada', 'gus', 'tom']);
    expect((await users.list('acme')).map((u) => [u.name, u.tenantRole])).toEqual([['tom', 'admin']]);
    expect(await users.list('initech')).toEqual([]);
  });

  it('sets a password and clears the must-change flag', async () => {
    await users.create(ada);
    await users.setPassword('ada', 'scrypt$new');
    expect(await users.get('ada')).toMatchObject({ passwordHash: 'scrypt$new', mustChangePassword: false });
  });

  it('keeps the first pending TOTP secret, and none for an unknown user', async () => {
    await users.create(ada);
    expect(await users.pendingTotpSecret('ada', 'SECRET1')).toBe('SECRET1');
    expect(await users.pendingTotpSecret('ada', 'SECRET2')).toBe('SECRET1');
    expect((await users.get('ada'))?.totpSecret).toBe('SECRET1');
    expect(await users.pendingTotpSecret('nobody', 'SECRET3')).toBeUndefined();
  });

  it('accepts a TOTP step only when it is later than the last one', async () => {
    await users.create(ada);
    expect(await users.advanceTotpStep('ada', 100)).toBe(true);
    expect(await users.advanceTotpStep('ada', 100)).toBe(false);
    expect(await users.advanceTotpStep('ada', 99)).toBe(false);
    expect(await users.advanceTotpStep('ada', 101)).toBe(true);
    expect((await users.get('ada'))?.totpLastStep).toBe(101);
  });

  it('enables TOTP with fresh recovery codes, each spent once', async () => {
    await users.create(ada);
    await users.enableTotp('ada', ['h1', 'h2', 'h3']);
    expect((await users.get('ada'))?.totpEnabled).toBe(true);
    expect(await users.recoveryCodesLeft('ada')).toBe(3);
    expect(await users.spendRecoveryCode('ada', 'h2', AT)).toBe(true);
    expect(await users.spendRecoveryCode('ada', 'h2', AT)).toBe(false);
    expect(await users.spendRecoveryCode('ada', 'nope', AT)).toBe(false);
    expect(await users.recoveryCodesLeft('ada')).toBe(2);
    // enrolling again replaces the codes
    await users.enableTotp('ada', ['h4']);
    expect(await users.recoveryCodesLeft('ada')).toBe(1);
    expect(await users.spendRecoveryCode('ada', 'h1', AT)).toBe(false);
  });

  it('resets a second factor: secret, step, codes and sessions go; false for an unknown user', async () => {
    await users.create(ada);
    await users.pendingTotpSecret('ada', 'SECRET1');
    await users.advanceTotpStep('ada', 5);
    await users.enableTotp('ada', ['h1']);
    const sessions = new SqlSessionsRepo(db.sql);
    await sessions.insert('sid', { user: 'ada', csrfToken: 'c', ip: null, createdAt: AT, expiresAt: AT, ssoProvider: null });
    expect(await users.resetSecondFactor('ada')).toBe(true);
    expect(await users.get('ada')).toMatchObject({ totpSecret: null, totpEnabled: false, totpLastStep: 0 });
    expect(await users.recoveryCodesLeft('ada')).toBe(0);
    expect(await sessions.get('sid')).toBeUndefined();
    expect(await users.resetSecondFactor('nobody')).toBe(false);
  });

  it('creates an SSO user under the first free name, then updates it by provider and subject', async () => {
    await users.create({ ...ada, name: 'alice.acme-sso' });
    const first = await users.upsertSso(alice, names);
    expect(first.created).toBe(true);
    expect(first.user).toEqual({
      name: 'alice.acme-sso-2', role: 'tenant', tenant: 'acme', tenantRole: 'member', passwordHash: '!sso', mustChangePassword: false,
      totpSecret: null, totpEnabled: false, totpLastStep: 0, createdAt: AT, sso: { provider: 'acme-sso', subject: 's1', groups: ['g1', 'g2'] },
    });
    const again = await users.upsertSso({ ...alice, groups: ['g3'], tenantRole: 'admin' }, () => 'never-used');
    expect(again.created).toBe(false);
    expect(again.user).toMatchObject({ name: 'alice.acme-sso-2', tenantRole: 'admin', sso: { groups: ['g3'] } });
    expect((await users.findSso('acme-sso', 's1'))?.name).toBe('alice.acme-sso-2');
    expect(await users.findSso('acme-sso', 's2')).toBeUndefined();
    expect(await users.findSso('other-sso', 's1')).toBeUndefined();
    // the local user of the same name is untouched
    expect(await users.get('alice.acme-sso')).toMatchObject({ role: 'admin', passwordHash: 'scrypt$ada' });
    expect(await db.sql.get('SELECT email, display_name FROM users WHERE name = ?', ['alice.acme-sso-2'])).toEqual({ email: 'alice@acme.example', display_name: 'Alice' });
  });

  it('ends an SSO user\'s sessions when its role or tenant changes, not otherwise', async () => {
    const { user } = await users.upsertSso(alice, names);
    const sessions = new SqlSessionsRepo(db.sql);
    await sessions.insert('sid', { user: user.name, csrfToken: 'c', ip: null, createdAt: AT, expiresAt: AT, ssoProvider: 'acme-sso' });
    await users.upsertSso({ ...alice, groups: ['other'] }, names);
    expect(await sessions.get('sid')).toBeDefined();
    await users.upsertSso({ ...alice, tenant: 'globex' }, names);
    expect(await sessions.get('sid')).toBeUndefined();
    expect((await users.get(user.name))?.tenant).toBe('globex');
  });

  it('creates one user when the same identity signs in twice at once', async () => {
    const [a, b] = await Promise.all([users.upsertSso(alice, names), users.upsertSso(alice, names)]);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    expect(a.user.name).toBe(b.user.name);
    expect((await users.list()).length).toBe(1);
  });
});

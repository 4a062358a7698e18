/** SsoRepo on both backends: OIDC logins in flight, step-ups, SAML request IDs, the assertion replay cache, SAML sessions. */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeBackends, openTestSql, type TestSql } from '../support/store-backends.js';
import { SqlSsoRepo, type OidcLoginRecord } from '../../hub/store/sso-repo.js';
import { SqlUsersRepo } from '../../hub/store/users-repo.js';

const AT = '2026-12-07T12:00:00.000Z';
const login = (over: Partial<OidcLoginRecord> = {}): OidcLoginRecord => ({ provider: 'acme-sso', bindingHash: 'bh', nonce: 'n', codeVerifier: 'v', expiresAt: '2026-12-07T12:10:00.000Z', ...over });

describeBackends('sso repo', (backend) => {
  let db: TestSql;
  let sso: SqlSsoRepo;
  beforeEach(async () => {
    db = await openTestSql(backend);
    sso = new SqlSsoRepo(db.sql);
  });
  afterEach(async () => db?.close());

  it('hands an OIDC login to its callback once', async () => {
    expect(await sso.startLogin('s1', login(), AT, 10)).toBe(true);
    expect(await sso.loginsInFlight()).toBe(1);
    expect(await sso.takeLogin('s1')).toEqual(login());
    expect(await sso.takeLogin('s1')).toBeUndefined();
    expect(await sso.loginsInFlight()).toBe(0);
  });

  it('refuses a login beyond the limit in flight, after removing the expired ones', async () => {
    expect(await sso.startLogin('s1', login({ expiresAt: '2026-12-07T12:05:00.000Z' }), AT, 2)).toBe(true);
    expect(await sso.startLogin('s2', login(), AT, 2)).toBe(true);
    expect(await sso.startLogin('s3', login(), AT, 2)).toBe(false);
    expect(await sso.takeLogin('s3')).toBeUndefined();
    // at 12:05 s1 has expired: its place is free again
    expect(await sso.startLogin('s4', login(), '2026-12-07T12:05:00.000Z', 2)).toBe(true);
    expect(await sso.takeLogin('s1')).toBeUndefined();
    expect(await sso.loginsInFlight()).toBe(2);
  });

  it('keeps one step-up per user, counts wrong codes and ends it', async () => {
    const users = new SqlUsersRepo(db.sql);
    for (const name of ['alice', 'bob']) await users.create({ name, role: 'admin', tenant: null, tenantRole: 'member', passwordHash: '!sso', createdAt: AT });
    await sso.openStepUp('t1', { user: 'alice', provider: 'acme-sso', expiresAt: '2026-12-07T12:10:00.000Z' }, AT);
    await sso.openStepUp('t2', { user: 'bob', provider: 'acme-sso', expiresAt: '2026-12-07T12:01:00.000Z' }, AT);
    expect(await sso.stepUp('t1')).toEqual({ user: 'alice', provider: 'acme-sso', attempts: 0, expiresAt: '2026-12-07T12:10:00.000Z' });
    await sso.failStepUp('t1');
    await sso.failStepUp('t1');
    expect((await sso.stepUp('t1'))?.attempts).toBe(2);
    // a new step-up of alice replaces hers; bob's, expired by now, is removed too
    await sso.openStepUp('t3', { user: 'alice', provider: 'acme-sso', expiresAt: '2026-12-07T12:12:00.000Z' }, '2026-12-07T12:02:00.000Z');
    expect(await sso.stepUp('t1')).toBeUndefined();
    expect(await sso.stepUp('t2')).toBeUndefined();
    expect((await sso.stepUp('t3'))?.attempts).toBe(0);
    await sso.closeStepUp('t3');
    expect(await sso.stepUp('t3')).toBeUndefined();
  });

  it('records an AuthnRequest ID once per provider, prunes stale ones, and forgets one as it is taken', async () => {
    expect(await sso.saveSamlRequest('acme', '_r1', 'bh', AT, '2026-12-07T11:50:00.000Z')).toBe(true);
    expect(await sso.saveSamlRequest('acme', '_r1', null, AT, '2026-12-07T11:50:00.000Z')).toBe(false);
    expect(await sso.saveSamlRequest('other', '_r1', null, AT, '2026-12-07T11:50:00.000Z')).toBe(true);
    expect(await sso.samlRequest('acme', '_r1')).toEqual({ bindingHash: 'bh', createdAt: AT });
    expect(await sso.samlRequest('other', '_r1')).toEqual({ bindingHash: null, createdAt: AT });
    expect(await sso.takeSamlRequest('acme', '_r1')).toBe(AT);
    expect(await sso.takeSamlRequest('acme', '_r1')).toBeUndefined();
    // a save at 12:10 removes what was created by then
    await sso.saveSamlRequest('acme', '_r2', null, '2026-12-07T12:10:00.000Z', AT);
    expect(await sso.samlRequest('other', '_r1')).toBeUndefined();
    expect(await sso.samlRequest('acme', '_r2')).toBeDefined();
  });

  it('records an assertion ID once per provider and keeps it until it expires', async () => {
    const entry = { provider: 'acme', id: '_a1', subject: 'alice', expiresAt: '2026-12-07T12:01:00.000Z' };
    expect(await sso.recordAssertion(entry, AT)).toBe(true);
    expect(await sso.recordAssertion(entry, AT)).toBe(false);
    expect(await sso.assertionSeen('acme', '_a1')).toBe(true);
    expect(await sso.assertionSeen('other', '_a1')).toBe(false);
    expect(await sso.recordAssertion({ ...entry, provider: 'other' }, AT)).toBe(true);
    // pruned by a later record once past its expiry
    expect(await sso.recordAssertion({ ...entry, id: '_a2' }, '2026-12-07T12:01:01.000Z')).toBe(true);
    expect(await sso.assertionSeen('acme', '_a1')).toBe(false);
    expect(await sso.assertionSeen('acme', '_a2')).toBe(true);
  });

  it('accepts an assertion posted twice at once only once', async () => {
    const entry = { provider: 'acme', id: '_race', subject: 'alice', expiresAt: '2026-12-07T12:05:00.000Z' };
    const won = await Promise.all([sso.recordAssertion(entry, AT), sso.recordAssertion(entry, AT), sso.recordAssertion(entry, AT)]);
    expect(won.filter(Boolean)).toEqual([true]);
  });

  it('remembers the last SAML session of a subject and hands it out once', async () => {
    const first = { nameID: 'alice@acme', nameIDFormat: 'urn:email', nameQualifier: null, spNameQualifier: 'sp', sessionIndex: 'idx-1' };
    await sso.rememberSamlSession('acme', first, AT);
    await sso.rememberSamlSession('acme', { ...first, sessionIndex: 'idx-2', nameQualifier: 'idp' }, '2026-12-07T12:05:00.000Z');
    await sso.rememberSamlSession('other', first, AT);
    expect(await sso.takeSamlSession('acme', 'alice@acme')).toEqual({ ...first, sessionIndex: 'idx-2', nameQualifier: 'idp' });
    expect(await sso.takeSamlSession('acme', 'alice@acme')).toBeUndefined();
    expect(await sso.takeSamlSession('other', 'alice@acme')).toEqual(first);
    expect(await sso.takeSamlSession('acme', 'bob@acme')).toBeUndefined();
  });
});

/** The AuthnRequest ID cache node-saml uses, on both store backends (the replay cache: test/store/sso-repo.test.ts). */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBackends, openTestSql, type TestSql } from '../../test/support/store-backends.js';
import { SqlSsoRepo } from '../store/sso-repo.js';
import { DbRequestCache, REQUEST_ID_TTL_MS } from './saml-cache.js';

describeBackends('AuthnRequest ID cache', (backend) => {
  let db: TestSql;
  let sso: SqlSsoRepo;
  beforeAll(async () => {
    db = await openTestSql(backend);
    sso = new SqlSsoRepo(db.sql);
  });
  afterAll(async () => db?.close());

  let t = Date.parse('2026-12-07T10:00:00Z');
  const cache = (provider: string, binding?: string, at: () => Date = () => new Date(t)) => new DbRequestCache(sso, provider, at, binding);

  it('knows an issued ID until it is used, per provider', async () => {
    const acme = cache('acme');
    expect(await acme.saveAsync('_r1', 'x')).toEqual({ value: 'x', createdAt: t });
    expect(await acme.saveAsync('_r1', 'x')).toBeNull(); // an ID is issued once
    expect(await acme.getAsync('_r1')).toBe('2026-12-07T10:00:00.000Z');
    expect(await cache('other').getAsync('_r1')).toBeNull();
    expect(await acme.removeAsync('_r1')).toBe('2026-12-07T10:00:00.000Z');
    expect(await acme.getAsync('_r1')).toBeNull();
    expect(await acme.removeAsync(null)).toBeNull();
  });

  it('forgets an ID after its time to sign in, and prunes old ones at the next save', async () => {
    const acme = cache('acme');
    await acme.saveAsync('_r2', 'x');
    t += REQUEST_ID_TTL_MS - 1;
    expect(await acme.getAsync('_r2')).not.toBeNull();
    t += 1;
    expect(await acme.getAsync('_r2')).toBeNull();
    await acme.saveAsync('_r3', 'x');
    expect(await db.sql.all("SELECT id FROM saml_requests WHERE provider = 'acme'")).toEqual([{ id: '_r3' }]);
  });

  it('reads an ID only with the binding it was issued with; unbound IDs read with any', async () => {
    const at = () => new Date('2026-12-07T11:00:00Z');
    const browser = 'b'.repeat(43);
    await cache('tls', browser, at).saveAsync('_b1', 'x');
    expect(await cache('tls', browser, at).getAsync('_b1')).not.toBeNull();
    const other = cache('tls', 'c'.repeat(43), at);
    expect(await other.getAsync('_b1')).toBeNull();
    expect(other.bindingMismatch).toBe(true);
    const none = cache('tls', undefined, at);
    expect(await none.getAsync('_b1')).toBeNull();
    expect(none.bindingMismatch).toBe(true);
    await none.saveAsync('_b2', 'x');
    expect(await other.getAsync('_b2')).not.toBeNull();
  });
});

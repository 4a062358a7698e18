/** ApiTokensRepo on both backends: insert, find by hash (unrevoked only), touch, list, get, revoke. */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeBackends, openTestSql, type TestSql } from '../support/store-backends.js';
import { SqlApiTokensRepo, type NewApiToken } from '../../hub/store/api-tokens-repo.js';

const token = (id: string, over: Partial<NewApiToken> = {}): NewApiToken => ({
  id, label: `label-${id}`, tokenHash: `hash-${id}`, role: 'tenant', tenant: 'acme', scopes: ['api'], createdBy: 'admin:ada',
  createdAt: '2026-12-07T12:00:00.000Z', expiresAt: null, user: null, ...over,
});

describeBackends('api tokens repo', (backend) => {
  let db: TestSql;
  let tokens: SqlApiTokensRepo;
  beforeEach(async () => {
    db = await openTestSql(backend);
    tokens = new SqlApiTokensRepo(db.sql);
  });
  afterEach(async () => db?.close());

  it('stores a token and returns its row without the hash', async () => {
    const row = await tokens.insert(token('t1', { scopes: ['api', 'apps'], expiresAt: '2026-12-07T13:00:00.000Z', user: 'alice' }));
    expect(row).toEqual({
      id: 't1', label: 'label-t1', role: 'tenant', tenant: 'acme', scopes: ['api', 'apps'], createdBy: 'admin:ada', createdAt: '2026-12-07T12:00:00.000Z',
      lastUsedAt: null, revoked: false, expiresAt: '2026-12-07T13:00:00.000Z', user: 'alice',
    });
    expect(await tokens.get('t1')).toEqual(row);
    expect(await tokens.byHash('hash-t1')).toEqual(row);
    expect(await tokens.byHash('hash-t2')).toBeUndefined();
    await expect(tokens.insert(token('t2', { tokenHash: 'hash-t1' }))).rejects.toThrow();
  });

  it('finds no revoked token by hash; revoking an unknown one says so', async () => {
    await tokens.insert(token('t1'));
    expect(await tokens.revoke('t1')).toBe(true);
    expect(await tokens.byHash('hash-t1')).toBeUndefined();
    expect((await tokens.get('t1'))?.revoked).toBe(true);
    expect(await tokens.revoke('nope')).toBe(false);
  });

  it('records the last use', async () => {
    await tokens.insert(token('t1'));
    await tokens.touch('t1', '2026-12-07T12:05:00.000Z');
    expect((await tokens.byHash('hash-t1'))?.lastUsedAt).toBe('2026-12-07T12:05:00.000Z');
  });

  it('lists newest first (then by id), all or one tenant\'s', async () => {
    await tokens.insert(token('b', { createdAt: '2026-12-07T12:00:00.000Z' }));
    await tokens.insert(token('a', { createdAt: '2026-12-07T12:00:00.000Z' }));
    await tokens.insert(token('c', { createdAt: '2026-12-07T13:00:00.000Z', tenant: 'globex' }));
    await tokens.insert(token('d', { createdAt: '2026-12-07T11:00:00.000Z', role: 'admin', tenant: null }));
    expect((await tokens.list()).map((t) => t.id)).toEqual(['c', 'a', 'b', 'd']);
    expect((await tokens.list('acme')).map((t) => t.id)).toEqual(['a', 'b']);
    expect(await tokens.list('initech')).toEqual([]);
  });
});

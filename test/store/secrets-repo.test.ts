/** The tenant secrets repository on both backends: versions, tenant takeover, the quota hook, deletes. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBackends, openTestSql, type TestSql } from '../support/store-backends.js';
import { SqlSecretsRepo, type SecretPut, type SecretRow } from '../../hub/store/secrets-repo.js';

const put = (over: Partial<SecretPut> = {}): SecretPut => ({ workspace: 'w1', tenant: 'acme', name: 'key', ciphertext: 'C1', at: '2026-12-01T00:00:00.000Z', actor: 'tenant:alice', ...over });
const admitAll = (): void => undefined;

describeBackends('secrets repo', (backend) => {
  let db: TestSql;
  let repo: SqlSecretsRepo;
  beforeAll(async () => {
    db = await openTestSql(backend);
    repo = new SqlSecretsRepo(db.sql);
  });
  afterAll(async () => db?.close());

  it('creates at version 1, replaces with the next version keeping created_at, lists by name', async () => {
    expect(await repo.put(put(), admitAll)).toEqual({ version: 1, created: true });
    expect(await repo.put(put({ ciphertext: 'C2', at: '2026-12-02T00:00:00.000Z', actor: 'tenant:bob' }), admitAll)).toEqual({ version: 2, created: false });
    expect(await repo.put(put({ name: 'a-first', ciphertext: 'A' }), admitAll)).toEqual({ version: 1, created: true });
    expect(await repo.list('w1', 'acme')).toEqual([
      { name: 'a-first', tenant: 'acme', version: 1, ciphertext: 'A', createdAt: '2026-12-01T00:00:00.000Z', updatedAt: '2026-12-01T00:00:00.000Z', updatedBy: 'tenant:alice' },
      { name: 'key', tenant: 'acme', version: 2, ciphertext: 'C2', createdAt: '2026-12-01T00:00:00.000Z', updatedAt: '2026-12-02T00:00:00.000Z', updatedBy: 'tenant:bob' },
    ]);
    expect(await repo.list('w1', 'globex')).toEqual([]);
  });

  it('hands admit the other secrets of the tenant, and writes nothing when it refuses', async () => {
    let seen: SecretRow[] = [];
    await repo.put(put({ workspace: 'w2', name: 'b' }), admitAll);
    await repo.put(put({ workspace: 'w2', name: 'c' }), (others) => void (seen = others));
    expect(seen.map((r) => r.name)).toEqual(['b']);
    await expect(repo.put(put({ workspace: 'w2', name: 'd' }), () => { throw new Error('quota'); })).rejects.toThrow('quota');
    await expect(repo.put(put({ workspace: 'w2', name: 'b', ciphertext: 'X' }), () => { throw new Error('quota'); })).rejects.toThrow('quota');
    expect((await repo.list('w2', 'acme')).map((r) => [r.name, r.version, r.ciphertext])).toEqual([['b', 1, 'C1'], ['c', 1, 'C1']]);
  });

  it('a workspace name taken by another tenant forgets the first tenant\'s secrets (not when the put is refused)', async () => {
    await repo.put(put({ workspace: 'w3', name: 'key' }), admitAll);
    await expect(repo.put(put({ workspace: 'w3', tenant: 'globex', name: 'key' }), () => { throw new Error('no'); })).rejects.toThrow('no');
    expect((await repo.list('w3', 'acme')).map((r) => r.name)).toEqual(['key']);
    let seen: SecretRow[] | undefined;
    expect(await repo.put(put({ workspace: 'w3', tenant: 'globex', name: 'key', ciphertext: 'G' }), (others) => void (seen = others))).toEqual({ version: 1, created: true });
    expect(seen).toEqual([]);
    expect(await repo.list('w3', 'acme')).toEqual([]);
    expect((await repo.list('w3', 'globex')).map((r) => [r.name, r.version, r.ciphertext])).toEqual([['key', 1, 'G']]);
  });

  it('concurrent replaces each get their own version', async () => {
    await repo.put(put({ workspace: 'w4' }), admitAll);
    const versions = await Promise.all([2, 3, 4, 5].map((i) => repo.put(put({ workspace: 'w4', ciphertext: `C${i}` }), admitAll)));
    expect(versions.map((v) => v.version).sort()).toEqual([2, 3, 4, 5]);
    expect((await repo.list('w4', 'acme'))[0]!.version).toBe(5);
  });

  it('removes one secret or all of a workspace, only the tenant\'s', async () => {
    await repo.put(put({ workspace: 'w5', name: 'a' }), admitAll);
    await repo.put(put({ workspace: 'w5', name: 'b' }), admitAll);
    await repo.put(put({ workspace: 'w5', name: 'c' }), admitAll);
    expect(await repo.remove('w5', 'globex', 'a')).toBe(false);
    expect(await repo.remove('w5', 'acme', 'a')).toBe(true);
    expect(await repo.remove('w5', 'acme', 'a')).toBe(false);
    expect(await repo.removeAll('w5', 'globex')).toBe(0);
    expect(await repo.removeAll('w5', 'acme')).toBe(2);
    expect(await repo.list('w5', 'acme')).toEqual([]);
    expect((await repo.list('w1', 'acme')).length).toBe(2);
  });
});

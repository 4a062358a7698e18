/** JoinTokensRepo on both backends: tokens, the reservation transaction, enrollments and the hub identity. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBackends, openTestSql, type TestSql } from '../support/store-backends.js';
import { SqlJoinTokensRepo, type NewJoinToken, type StoredJoinToken } from '../../hub/store/join-tokens-repo.js';

const token = (id: string, extra: Partial<NewJoinToken> = {}): NewJoinToken => ({
  id, tokenHash: `hash-${id}`, profile: 'gpu-node', node: null, labels: { zone: 'fsn1' }, maxUses: 2, expiresAt: '2026-12-01T00:00:00.000Z', createdBy: 'test', createdAt: '2026-11-30T00:00:00.000Z', ...extra,
});
const rows = (node: string) => ({ node, hostname: `${node}.example`, inventory: { gpus: [{ uuid: 'GPU-1' }] }, credentialHash: `cred-${node}`, at: '2026-11-30T01:00:00.000Z' });
// the rule the domain applies, reduced to what these tests need
const usable = (t: StoredJoinToken | undefined, nodeExists: boolean): void => {
  if (t === undefined) throw new Error('unknown');
  if (t.uses >= t.maxUses) throw new Error('used-up');
  if (nodeExists) throw new Error('taken');
};

describeBackends('join tokens repo', (backend) => {
  let db: TestSql;
  let repo: SqlJoinTokensRepo;
  beforeAll(async () => {
    db = await openTestSql(backend);
    repo = new SqlJoinTokensRepo(db.sql);
  });
  afterAll(async () => db?.close());

  it('creates, lists newest first, finds by hash and revokes', async () => {
    await repo.create(token('t1'));
    await repo.create(token('t2', { node: 'gpu-01', createdAt: '2026-11-30T00:00:01.000Z', labels: {} }));
    expect((await repo.list()).map((t) => t.id)).toEqual(['t2', 't1']);
    expect(await repo.byHash('hash-t1')).toEqual({ id: 't1', profile: 'gpu-node', node: null, labels: { zone: 'fsn1' }, maxUses: 2, uses: 0, expiresAt: '2026-12-01T00:00:00.000Z', revoked: false, createdBy: 'test', createdAt: '2026-11-30T00:00:00.000Z' });
    expect((await repo.byHash('hash-t2'))?.node).toBe('gpu-01');
    expect(await repo.byHash('nope')).toBeUndefined();
    expect(await repo.revoke('t2')).toBe(true);
    expect(await repo.revoke('nope')).toBe(false);
    expect((await repo.byHash('hash-t2'))?.revoked).toBe(true);
  });

  it('reserves: counts the use, creates the node and the enrollment; a refusing check changes nothing', async () => {
    await repo.create(token('r1'));
    const t = await repo.reserve('hash-r1', rows('n1'), usable);
    expect(t).toMatchObject({ id: 'r1', uses: 0, profile: 'gpu-node', labels: { zone: 'fsn1' } });
    expect(await db.sql.get('SELECT name, credential_hash FROM nodes WHERE name = ?', ['n1'])).toEqual({ name: 'n1', credential_hash: 'cred-n1' });
    expect(await repo.enrollments()).toEqual([{ node: 'n1', tokenId: 'r1', hostname: 'n1.example', profile: 'gpu-node', labels: { zone: 'fsn1' }, enrolledAt: '2026-11-30T01:00:00.000Z', nodeFile: null }]);
    // a taken name is refused by the check, which saw the node: nothing written
    await expect(repo.reserve('hash-r1', rows('n1'), usable)).rejects.toThrow('taken');
    await expect(repo.reserve('hash-unknown', rows('n9'), usable)).rejects.toThrow('unknown');
    expect((await repo.byHash('hash-r1'))?.uses).toBe(1);
    await repo.reserve('hash-r1', rows('n2'), usable);
    await expect(repo.reserve('hash-r1', rows('n3'), usable)).rejects.toThrow('used-up');
    expect((await db.sql.all<{ name: string }>('SELECT name FROM nodes ORDER BY name')).map((r) => r.name)).toEqual(['n1', 'n2']);
    await repo.setNodeFile('n2', 'nodes/n2.yaml@abc');
    expect((await repo.enrollments()).find((e) => e.node === 'n2')?.nodeFile).toBe('nodes/n2.yaml@abc');
  });

  it('takes the last use once when two reservations race', async () => {
    await repo.create(token('race', { maxUses: 1 }));
    const results = await Promise.allSettled([repo.reserve('hash-race', rows('race-a'), usable), repo.reserve('hash-race', rows('race-b'), usable)]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((await repo.byHash('hash-race'))?.uses).toBe(1);
    expect(await db.sql.get("SELECT COUNT(*) AS n FROM nodes WHERE name LIKE 'race-%'")).toEqual({ n: 1 });
  });

  it('releases a reservation: enrollment and node gone, the use given back (never below zero)', async () => {
    await repo.create(token('rel', { maxUses: 1 }));
    await repo.reserve('hash-rel', rows('rel-1'), usable);
    await repo.release('rel-1', 'rel');
    expect(await db.sql.get('SELECT name FROM nodes WHERE name = ?', ['rel-1'])).toBeUndefined();
    expect((await repo.enrollments()).some((e) => e.node === 'rel-1')).toBe(false);
    expect((await repo.byHash('hash-rel'))?.uses).toBe(0);
    await repo.release('rel-1', 'rel');
    expect((await repo.byHash('hash-rel'))?.uses).toBe(0);
  });

  it('keeps one hub identity row, replaced on save', async () => {
    expect(await repo.identity()).toEqual({ url: undefined, pin: undefined });
    await repo.saveIdentity({ url: 'https://hub:8443', pin: 'p' }, '2026-11-30T00:00:00.000Z');
    await repo.saveIdentity({ url: 'https://hub:9443', pin: undefined }, '2026-11-30T00:00:01.000Z');
    expect(await repo.identity()).toEqual({ url: 'https://hub:9443', pin: undefined });
    expect(await db.sql.get('SELECT COUNT(*) AS n FROM hub_identity')).toEqual({ n: 1 });
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HubStore } from '../store/hub-store.js';
import { createJoinToken, enrollments, hubIdentity, joinTokenScope, listJoinTokens, releaseEnrollment, reserveEnrollment, revokeJoinToken, saveHubIdentity } from './join-tokens.js';

const T0 = new Date('2026-11-27T10:00:00Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const spec = { ttlMs: 3600_000, uses: 2, profile: 'gpu-node', labels: { zone: 'fsn1' }, createdBy: 'test' };
const claim = (secret: string, node: string) => ({ secret, node, hostname: `${node}.example`, inventory: { gpus: [] } });

describe('join tokens in the store', () => {
  let store: HubStore;
  let repo: HubStore['joinTokens'];
  beforeEach(() => {
    store = new HubStore(':memory:');
    repo = store.joinTokens;
  });
  afterEach(() => store.close());

  it('stores only the hash and lists uses and state', async () => {
    const t = await createJoinToken(repo, spec, T0);
    expect(JSON.stringify(await store.sql.all('SELECT * FROM join_tokens'))).not.toContain(t.secret);
    expect(await listJoinTokens(repo, T0)).toEqual([
      { id: t.id, profile: 'gpu-node', labels: { zone: 'fsn1' }, maxUses: 2, uses: 0, expiresAt: '2026-11-27T11:00:00.000Z', createdAt: T0.toISOString(), createdBy: 'test', revoked: false, state: 'active', nodes: [], node: null },
    ]);
    expect((await listJoinTokens(repo, at(3600_000)))[0]!.state).toBe('expired');
    expect(await joinTokenScope(repo, t.secret)).toEqual({ id: t.id, profile: 'gpu-node', node: null });
    expect(await joinTokenScope(repo, 'fjt_unknown')).toBeUndefined();
  });

  it('a token made for a node enrolls only that name; a node Git declares needs such a token of its profile', async () => {
    const any = await createJoinToken(repo, spec, T0);
    const bound = await createJoinToken(repo, { ...spec, node: 'gpu-01' }, T0);
    await expect(reserveEnrollment(repo, claim(bound.secret, 'gpu-02'), at(1000))).rejects.toThrow(`join token ${bound.id} is for node gpu-01, not gpu-02`);
    await expect(reserveEnrollment(repo, { ...claim(any.secret, 'gpu-01'), declaredProfile: 'gpu-node' }, at(1000))).rejects.toThrow('node gpu-01 is declared in the infra repo: enrolling it needs a join token made for that node (--node gpu-01)');
    await expect(reserveEnrollment(repo, { ...claim(bound.secret, 'gpu-01'), declaredProfile: 'ceph-node' }, at(1000))).rejects.toThrow(`node gpu-01 is declared in the infra repo with profile ceph-node, and join token ${bound.id} is for profile gpu-node`);
    expect(await store.sql.get('SELECT count(*) AS n FROM nodes')).toEqual({ n: 0 });
    expect(await reserveEnrollment(repo, { ...claim(bound.secret, 'gpu-01'), declaredProfile: 'gpu-node' }, at(1000))).toMatchObject({ node: 'gpu-01', tokenId: bound.id });
  });

  it('counts uses up to the limit, then refuses; creates the node with a working credential', async () => {
    const t = await createJoinToken(repo, spec, T0);
    const a = await reserveEnrollment(repo, claim(t.secret, 'a'), at(1000));
    expect((await store.authenticateNode(a.credential))).toEqual({ ok: true, node: 'a' });
    expect(a).toMatchObject({ node: 'a', tokenId: t.id, profile: 'gpu-node', labels: { zone: 'fsn1' } });
    await reserveEnrollment(repo, claim(t.secret, 'b'), at(2000));
    await expect(reserveEnrollment(repo, claim(t.secret, 'c'), at(3000))).rejects.toThrow(`join token ${t.id} is used-up`);
    expect((await listJoinTokens(repo, at(3000)))[0]).toMatchObject({ uses: 2, state: 'used-up', nodes: ['a', 'b'] });
    expect((await store.nodes()).map((n) => n.name)).toEqual(['a', 'b']);
  });

  it('refuses expired, revoked and unknown tokens and taken names, changing nothing', async () => {
    const t = await createJoinToken(repo, spec, T0);
    await expect(reserveEnrollment(repo, claim(t.secret, 'a'), at(3600_000))).rejects.toThrow(`join token ${t.id} is expired`);
    await expect(reserveEnrollment(repo, claim('fjt_unknown', 'a'), T0)).rejects.toThrow('unknown join token');
    await store.issueNodeCredential('taken');
    await expect(reserveEnrollment(repo, claim(t.secret, 'taken'), T0)).rejects.toThrow(expect.objectContaining({ code: 'NODE_NAME_TAKEN' }));
    expect(await revokeJoinToken(repo, t.id)).toBe(true);
    expect(await revokeJoinToken(repo, 'nope')).toBe(false);
    await expect(reserveEnrollment(repo, claim(t.secret, 'a'), T0)).rejects.toThrow(`join token ${t.id} is revoked`);
    expect((await listJoinTokens(repo, T0))[0]!.uses).toBe(0);
    expect((await store.nodes()).map((n) => n.name)).toEqual(['taken']);
  });

  it('release undoes a reservation: node gone, use given back', async () => {
    const t = await createJoinToken(repo, { ...spec, uses: 1 }, T0);
    const r = await reserveEnrollment(repo, claim(t.secret, 'a'), T0);
    expect((await enrollments(repo)).get('a')).toMatchObject({ tokenId: t.id, hostname: 'a.example' });
    await releaseEnrollment(repo, r);
    expect((await store.nodes())).toEqual([]);
    expect((await enrollments(repo)).size).toBe(0);
    expect((await reserveEnrollment(repo, claim(t.secret, 'a'), T0)).node).toBe('a');
  });

  it('keeps the hub identity for the CLI', async () => {
    expect(await hubIdentity(repo)).toEqual({ url: undefined, pin: undefined });
    await saveHubIdentity(repo, { url: 'https://hub:8443', pin: 'p' }, T0);
    await saveHubIdentity(repo, { url: 'https://hub:9443', pin: undefined }, T0);
    expect(await hubIdentity(repo)).toEqual({ url: 'https://hub:9443', pin: undefined });
  });
});

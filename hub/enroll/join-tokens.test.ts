import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HubStore } from '../store/hub-store.js';
import { createJoinToken, enrollments, hubIdentity, listJoinTokens, releaseEnrollment, reserveEnrollment, revokeJoinToken, saveHubIdentity } from './join-tokens.js';

const T0 = new Date('2026-11-27T10:00:00Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const spec = { ttlMs: 3600_000, uses: 2, profile: 'gpu-node', labels: { zone: 'fsn1' }, createdBy: 'test' };
const claim = (secret: string, node: string) => ({ secret, node, hostname: `${node}.example`, inventory: { gpus: [] } });

describe('join tokens in the store', () => {
  let store: HubStore;
  beforeEach(() => (store = new HubStore(':memory:')));
  afterEach(() => store.close());

  it('stores only the hash and lists uses and state', () => {
    const t = createJoinToken(store.db, spec, T0);
    expect(JSON.stringify(store.db.prepare('SELECT * FROM join_tokens').all())).not.toContain(t.secret);
    expect(listJoinTokens(store.db, T0)).toEqual([
      { id: t.id, profile: 'gpu-node', labels: { zone: 'fsn1' }, maxUses: 2, uses: 0, expiresAt: '2026-11-27T11:00:00.000Z', createdAt: T0.toISOString(), createdBy: 'test', revoked: false, state: 'active', nodes: [], node: null },
    ]);
    expect(listJoinTokens(store.db, at(3600_000))[0]!.state).toBe('expired');
  });

  it('a token made for a node enrolls only that name; a node Git declares needs such a token of its profile', () => {
    const any = createJoinToken(store.db, spec, T0);
    const bound = createJoinToken(store.db, { ...spec, node: 'gpu-01' }, T0);
    expect(() => reserveEnrollment(store.db, claim(bound.secret, 'gpu-02'), at(1000))).toThrow(`join token ${bound.id} is for node gpu-01, not gpu-02`);
    expect(() => reserveEnrollment(store.db, { ...claim(any.secret, 'gpu-01'), declaredProfile: 'gpu-node' }, at(1000))).toThrow('node gpu-01 is declared in the infra repo: enrolling it needs a join token made for that node (--node gpu-01)');
    expect(() => reserveEnrollment(store.db, { ...claim(bound.secret, 'gpu-01'), declaredProfile: 'ceph-node' }, at(1000))).toThrow(`node gpu-01 is declared in the infra repo with profile ceph-node, and join token ${bound.id} is for profile gpu-node`);
    expect(store.db.prepare('SELECT count(*) AS n FROM nodes').get()).toEqual({ n: 0 });
    expect(reserveEnrollment(store.db, { ...claim(bound.secret, 'gpu-01'), declaredProfile: 'gpu-node' }, at(1000))).toMatchObject({ node: 'gpu-01', tokenId: bound.id });
  });

  it('counts uses up to the limit, then refuses; creates the node with a working credential', async () => {
    const t = createJoinToken(store.db, spec, T0);
    const a = reserveEnrollment(store.db, claim(t.secret, 'a'), at(1000));
    expect((await store.authenticateNode(a.credential))).toEqual({ ok: true, node: 'a' });
    expect(a).toMatchObject({ node: 'a', tokenId: t.id, profile: 'gpu-node', labels: { zone: 'fsn1' } });
    reserveEnrollment(store.db, claim(t.secret, 'b'), at(2000));
    expect(() => reserveEnrollment(store.db, claim(t.secret, 'c'), at(3000))).toThrow(`join token ${t.id} is used-up`);
    expect(listJoinTokens(store.db, at(3000))[0]).toMatchObject({ uses: 2, state: 'used-up', nodes: ['a', 'b'] });
    expect((await store.nodes()).map((n) => n.name)).toEqual(['a', 'b']);
  });

  it('refuses expired, revoked and unknown tokens and taken names, changing nothing', async () => {
    const t = createJoinToken(store.db, spec, T0);
    expect(() => reserveEnrollment(store.db, claim(t.secret, 'a'), at(3600_000))).toThrow(`join token ${t.id} is expired`);
    expect(() => reserveEnrollment(store.db, claim('fjt_unknown', 'a'), T0)).toThrow('unknown join token');
    await store.issueNodeCredential('taken');
    expect(() => reserveEnrollment(store.db, claim(t.secret, 'taken'), T0)).toThrow(expect.objectContaining({ code: 'NODE_NAME_TAKEN' }));
    expect(revokeJoinToken(store.db, t.id)).toBe(true);
    expect(revokeJoinToken(store.db, 'nope')).toBe(false);
    expect(() => reserveEnrollment(store.db, claim(t.secret, 'a'), T0)).toThrow(`join token ${t.id} is revoked`);
    expect(listJoinTokens(store.db, T0)[0]!.uses).toBe(0);
    expect((await store.nodes()).map((n) => n.name)).toEqual(['taken']);
  });

  it('release undoes a reservation: node gone, use given back', async () => {
    const t = createJoinToken(store.db, { ...spec, uses: 1 }, T0);
    const r = reserveEnrollment(store.db, claim(t.secret, 'a'), T0);
    expect(enrollments(store.db).get('a')).toMatchObject({ tokenId: t.id, hostname: 'a.example' });
    releaseEnrollment(store.db, r);
    expect((await store.nodes())).toEqual([]);
    expect(enrollments(store.db).size).toBe(0);
    expect(reserveEnrollment(store.db, claim(t.secret, 'a'), T0).node).toBe('a');
  });

  it('keeps the hub identity for the CLI', () => {
    expect(hubIdentity(store.db)).toEqual({ url: undefined, pin: undefined });
    saveHubIdentity(store.db, { url: 'https://hub:8443', pin: 'p' }, T0);
    saveHubIdentity(store.db, { url: 'https://hub:9443', pin: undefined }, T0);
    expect(hubIdentity(store.db)).toEqual({ url: 'https://hub:9443', pin: undefined });
  });
});

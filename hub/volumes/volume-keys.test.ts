import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decryptWithIdentities, generateAgeKeyPair } from '../../common/secrets/age.js';
import { HubStore } from '../store/hub-store.js';
import { repoOf } from '../../test/support/infra-repo.js';
import type { VolumeKeysMessage } from '../../common/protocol/codec.js';
import { decide, keysToDestroy, VolumeKeyService } from './volume-key-service.js';
import { VolumeKeyStore } from './volume-key-store.js';

const container = (volumes: Record<string, unknown>[]): Record<string, unknown> => ({ name: 'db', image: 'x', volumes });
function repo(workspaces: Record<string, Record<string, unknown>>, tenants = ['acme']) {
  return repoOf([
    { kind: 'WorkspaceTemplate', metadata: { name: 't' }, spec: { containers: [container([{ name: 'data', mountPath: '/d' }, { name: 'cache', mountPath: '/c', encryption: 'none' }])], vm: { name: 'desk', driver: 'libvirt', disk: { baseImage: 'b.qcow2' } } } },
    { kind: 'WorkspaceTemplate', metadata: { name: 'plain' }, spec: { encryption: 'none', containers: [container([{ name: 'data', mountPath: '/d' }])] } },
    { kind: 'WorkspaceTemplate', metadata: { name: 'movable' }, spec: { dataOnMove: 'drop', containers: [container([{ name: 'data', mountPath: '/d' }])] } },
    ...tenants.map((t) => ({ kind: 'Tenant', metadata: { name: t }, spec: {} })),
    ...Object.entries(workspaces).map(([name, spec]) => ({ kind: 'Workspace', metadata: { name }, spec: { tenant: 'acme', template: 't', ...spec } })),
  ]);
}

describe('which node gets which key (pure)', () => {
  const r = repo({ w1: { node: 'n1' }, w2: { node: 'n2' }, w3: {}, w4: { node: 'n1', template: 'plain' } });
  it('gives a key only for an encrypted volume of a workspace placed on the asking node', () => {
    expect(decide(r, 'n1', { workspace: 'w1', kind: 'volume', name: 'data' })).toMatchObject({ ok: true, tenant: 'acme', reclaim: 'Retain' });
    expect(decide(r, 'n1', { workspace: 'w1', kind: 'vm-disk', name: 'desk' })).toMatchObject({ ok: true });
    expect(decide(r, 'n1', { workspace: 'w2', kind: 'volume', name: 'data' })).toMatchObject({ ok: false, reason: 'workspace w2 is placed on node n2, not on n1' });
    expect(decide(r, 'n1', { workspace: 'w3', kind: 'volume', name: 'data' })).toMatchObject({ ok: false, reason: 'workspace w3 is not placed yet' });
    expect(decide(r, 'n1', { workspace: 'nope', kind: 'volume', name: 'data' })).toMatchObject({ ok: false, reason: 'workspace nope is not declared at the branch tip' });
    expect(decide(r, 'n1', { workspace: 'w1', kind: 'volume', name: 'cache' })).toMatchObject({ ok: false, reason: 'template t has no encrypted volume cache' });
    expect(decide(r, 'n1', { workspace: 'w4', kind: 'volume', name: 'data' })).toMatchObject({ ok: false, reason: 'template plain has no encrypted volume data' });
  });

  it('destroys keys of workspaces deleted with reclaim Delete and of deleted tenants, keeps the rest', () => {
    const rows = [
      { workspace: 'w1', tenant: 'acme', reclaim: 'Delete' as const },
      { workspace: 'gone-retain', tenant: 'acme', reclaim: 'Retain' as const },
      { workspace: 'gone-delete', tenant: 'acme', reclaim: 'Delete' as const },
      { workspace: 'gone-delete', tenant: 'acme', reclaim: 'Delete' as const },
      { workspace: 'globex-ws', tenant: 'globex', reclaim: 'Retain' as const },
    ];
    expect(keysToDestroy(r, rows)).toEqual([
      { workspace: 'gone-delete', why: 'workspace deleted with reclaimPolicy Delete' },
      { workspace: 'globex-ws', why: 'tenant globex was deleted' },
    ]);
  });
});

describe('volume key store and service (real SQLite, real age)', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  async function setup(tip: () => ReturnType<typeof repo>) {
    const dir = mkdtempSync(join(tmpdir(), 'hub-volkeys-'));
    dirs.push(dir);
    const store = new HubStore(join(dir, 'hub.db'));
    const hub = await generateAgeKeyPair();
    const node = await generateAgeKeyPair();
    const sent: Array<{ node: string; body: VolumeKeysMessage['body'] }> = [];
    const keys = new VolumeKeyStore(store.volumeKeys, hub, async (a, action, target, details) => (await store.audit(a, action, target, details)));
    const svc = new VolumeKeyService({ keys, repo: async () => tip(), recipientOf: (n) => (n === 'n1' || n === 'n3' ? node.recipient : undefined), send: (n, body) => sent.push({ node: n, body }), connected: () => ['n1', 'n2'], log: { warn() {}, info() {} } });
    return { dir, store, hub, node, keys, svc, sent };
  }

  it('creates a key on first request, encrypted at rest to the hub and in transit to the node only; the same key again later', async () => {
    const { dir, store, hub, node, svc } = await setup(() => repo({ w1: { node: 'n1' }, w2: { node: 'n2' } }));
    const ask = { node: 'n1', keys: [{ workspace: 'w1', kind: 'volume' as const, name: 'data' }, { workspace: 'w2', kind: 'volume' as const, name: 'data' }] };
    const a = await svc.answer('n1', ask);
    expect(a.refused).toEqual([{ workspace: 'w2', kind: 'volume', name: 'data', reason: 'workspace w2 is placed on node n2, not on n1' }]);
    expect(a.keys).toHaveLength(1);
    const key = Buffer.from(await decryptWithIdentities(a.keys[0]!.ciphertext, [node.identity]));
    expect(key).toHaveLength(32);
    await expect(decryptWithIdentities(a.keys[0]!.ciphertext, [hub.identity])).rejects.toThrow();
    const again = await svc.answer('n1', ask);
    expect(Buffer.from(await decryptWithIdentities(again.keys[0]!.ciphertext, [node.identity])).equals(key)).toBe(true);
    const row = (await store.sql.get<{ wrapped: string }>('SELECT wrapped FROM volume_keys'))!;
    expect(Buffer.from(await decryptWithIdentities(row.wrapped, [hub.identity])).equals(key)).toBe(true);
    await store.close();
    // Nowhere in the database file in plaintext (hex or base64).
    const file = readFileSync(join(dir, 'hub.db'));
    expect(file.includes(key)).toBe(false);
    expect(file.includes(Buffer.from(key.toString('base64')))).toBe(false);
  });

  it('refuses every key to a node whose recipient the hub does not know', async () => {
    const { svc } = await setup(() => repo({ w2: { node: 'n2' } }));
    const a = await svc.answer('n2', { node: 'n2', keys: [{ workspace: 'w2', kind: 'volume', name: 'data' }] });
    expect(a).toEqual({ node: 'n2', keys: [], refused: [{ workspace: 'w2', kind: 'volume', name: 'data', reason: 'the hub knows no age recipient of node n2 (re-enroll it, or upgrade its agent)' }] });
  });

  it('reaps: keys of a workspace deleted with reclaimPolicy Delete are destroyed, audited, and every node is told to forget them', async () => {
    let tip = repo({ w1: { node: 'n1', reclaimPolicy: 'Retain' }, w5: { node: 'n1' } });
    const { store, keys, svc, sent } = await setup(() => tip);
    await svc.answer('n1', { node: 'n1', keys: [{ workspace: 'w1', kind: 'volume', name: 'data' }, { workspace: 'w1', kind: 'vm-disk', name: 'desk' }, { workspace: 'w5', kind: 'volume', name: 'data' }] });
    expect((await keys.list()).map((k) => `${k.workspace}/${k.kind}/${k.name}`)).toEqual(['w1/vm-disk/desk', 'w1/volume/data', 'w5/volume/data']);
    // An admin sets Delete, then deletes the workspace; w5 (Retain) is deleted too and keeps its key.
    tip = repo({ w1: { node: 'n1', reclaimPolicy: 'Delete' }, w5: { node: 'n1' } });
    expect(await svc.reap('admin')).toEqual([]);
    tip = repo({});
    expect(await svc.reap('admin')).toEqual(['w1']);
    expect((await keys.list()).map((k) => k.workspace)).toEqual(['w5']);
    expect(sent).toEqual([{ node: 'n1', body: { node: 'n1', keys: [], forget: ['w1'] } }, { node: 'n2', body: { node: 'n2', keys: [], forget: ['w1'] } }]);
    expect((await store.auditLog()).filter((e) => e.action.startsWith('volume-key.')).map((e) => `${e.action} ${e.target}`)).toEqual(['volume-key.create w1/volume/data', 'volume-key.create w1/vm-disk/desk', 'volume-key.create w5/volume/data', 'volume-key.destroy w1']);
    // The tenant goes: its Retain workspace's keys go too.
    tip = repoOf([]);
    expect(await svc.reap('admin')).toEqual(['w5']);
    expect(await keys.list()).toEqual([]);
    await store.close();
  });

  it('refuses a moved workspace its keys unless its template says dataOnMove: drop, which erases the old keys first', async () => {
    let tip = repo({ w1: { node: 'n1' }, w6: { node: 'n1', template: 'movable' } });
    const { node, keys, svc, sent } = await setup(() => tip);
    const ask = (n: string, w: string) => svc.answer(n, { node: n, keys: [{ workspace: w, kind: 'volume', name: 'data' }] });
    const first = await ask('n1', 'w1');
    const firstKey = Buffer.from(await decryptWithIdentities((await ask('n1', 'w6')).keys[0]!.ciphertext, [node.identity]));
    expect(first.keys).toHaveLength(1);
    tip = repo({ w1: { node: 'n3' }, w6: { node: 'n3', template: 'movable' } });
    expect((await ask('n3', 'w1')).refused).toEqual([{ workspace: 'w1', kind: 'volume', name: 'data', reason: expect.stringMatching(/^workspace w1 moved from node n1 to n3, but its encrypted volumes are local to n1 and its template says dataOnMove: refuse; place it back on n1, or set dataOnMove: drop/) }]);
    expect(await keys.homeNode('w1')).toBe('n1');
    const moved = await ask('n3', 'w6');
    const newKey = Buffer.from(await decryptWithIdentities(moved.keys[0]!.ciphertext, [node.identity]));
    expect(newKey.equals(firstKey)).toBe(false);
    expect(await keys.homeNode('w6')).toBe('n3');
    expect(sent.map((m) => m.body.forget)).toEqual([['w6'], ['w6']]);
  });
});

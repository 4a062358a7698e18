/**
 * SecretDelivery over a real store (SQLite, age): each node gets only the secrets of workspaces placed
 * on it, encrypted to its own recipient; a move sends the old node a list without the workspace and
 * never a later version; a damaged stored secret is delivered as `unavailable` (the node keeps its value).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { HubStore } from '../store/hub-store.js';
import type { SecretsMessage } from '../../common/protocol/codec.js';
import { decryptWithIdentities, generateAgeKeyPair } from '../../common/secrets/age.js';
import { ensureHubIdentity } from './hub-identity.js';
import { WorkspaceSecrets } from './workspace-secrets.js';
import { SecretDelivery, type PlacementView } from './secret-delivery.js';

type Body = SecretsMessage['body'];

describe('secret delivery', () => {
  let dir: string;
  let store: HubStore;
  let secrets: WorkspaceSecrets;
  let delivery: SecretDelivery;
  let view: PlacementView;
  let online: string[];
  const keys = new Map<string, { identity: string; recipient: string }>();
  const frames: Array<{ node: string; body: Body }> = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'foundry-delivery-'));
    store = new HubStore(join(dir, 'hub.db'));
    secrets = new WorkspaceSecrets(store.secrets, await ensureHubIdentity(dir), () => undefined);
    for (const n of ['gpu-01', 'gpu-02']) keys.set(n, await generateAgeKeyPair());
    view = { revision: 'r1', workspaces: [{ name: 'acme-a', tenant: 'acme', node: 'gpu-01' }, { name: 'globex-b', tenant: 'globex', node: 'gpu-02' }, { name: 'acme-unplaced', tenant: 'acme', node: undefined }] };
    online = ['gpu-01', 'gpu-02'];
    frames.length = 0;
    delivery = new SecretDelivery({
      secrets,
      placements: async () => view,
      recipientOf: (n) => keys.get(n)?.recipient,
      send: (node, body) => (online.includes(node) ? (frames.push({ node, body }), true) : false),
      connected: () => online,
      log: pino({ level: 'silent' }),
    });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = async (node: string, body: Body, name: string): Promise<string> => {
    const s = body.update?.secrets.find((x) => x.name === name);
    return Buffer.from(await decryptWithIdentities(s!.ciphertext!, [keys.get(node)!.identity])).toString();
  };

  it('sends each node only its workspaces\' secrets, encrypted to its recipient alone, and only what changed', async () => {
    await secrets.set('acme-a', 'acme', 'key', Buffer.from('acme-value'), 'a');
    await secrets.set('globex-b', 'globex', 'key', Buffer.from('globex-value'), 'b');
    await secrets.set('acme-unplaced', 'acme', 'key', Buffer.from('nowhere'), 'a');
    await delivery.connected('gpu-01');
    await delivery.connected('gpu-02');
    expect(frames.map((f) => [f.node, f.body.workspaces, f.body.update?.workspace, f.body.update?.secrets.map((s) => `${s.name}:${s.version}`)])).toEqual([
      ['gpu-01', ['acme-a'], 'acme-a', ['key:1']],
      ['gpu-02', ['globex-b'], 'globex-b', ['key:1']],
    ]);
    expect(await open('gpu-01', frames[0]!.body, 'key')).toBe('acme-value');
    // the other node's key cannot open it
    await expect(decryptWithIdentities(frames[0]!.body.update!.secrets[0]!.ciphertext!, [keys.get('gpu-02')!.identity])).rejects.toThrow(/no key of this node can decrypt it/);
    frames.length = 0;
    await delivery.reconcile(false);
    expect(frames).toEqual([]);
    await secrets.set('acme-a', 'acme', 'key', Buffer.from('acme-value-2'), 'a');
    await delivery.reconcile(true);
    expect(frames.map((f) => [f.node, f.body.update?.secrets.map((s) => `${s.name}:${s.version}`)])).toEqual([['gpu-01', ['key:2']]]);
    expect(await open('gpu-01', frames[0]!.body, 'key')).toBe('acme-value-2');
  });

  it('a move: the old node gets a list without the workspace and never the later versions; the new node gets them', async () => {
    await secrets.set('acme-a', 'acme', 'key', Buffer.from('v1'), 'a');
    await delivery.connected('gpu-01');
    await delivery.connected('gpu-02');
    frames.length = 0;
    view = { revision: 'r2', workspaces: [{ name: 'acme-a', tenant: 'acme', node: 'gpu-02' }] };
    await delivery.reconcile(true);
    await secrets.set('acme-a', 'acme', 'key', Buffer.from('v2-after-move'), 'a');
    await delivery.reconcile(true);
    const toOld = frames.filter((f) => f.node === 'gpu-01');
    expect(toOld.map((f) => f.body)).toEqual([{ node: 'gpu-01', revision: 'r2', workspaces: [] }]);
    const toNew = frames.filter((f) => f.node === 'gpu-02');
    expect(toNew.map((f) => f.body.update?.secrets.map((s) => `${s.name}:${s.version}`))).toEqual([['key:1'], ['key:2']]);
    expect(await open('gpu-02', toNew[1]!.body, 'key')).toBe('v2-after-move');
    // the old node reconnecting still gets nothing of it
    frames.length = 0;
    await delivery.connected('gpu-01');
    expect(frames).toEqual([{ node: 'gpu-01', body: { node: 'gpu-01', revision: 'r2', workspaces: [] } }]);
  });

  it('a damaged stored secret goes out as unavailable, naming it; a node without a recipient gets nothing', async () => {
    await secrets.set('acme-a', 'acme', 'good', Buffer.from('ok'), 'a');
    await secrets.set('acme-a', 'acme', 'broken', Buffer.from('x'), 'a');
    await store.sql.run("UPDATE workspace_secrets SET ciphertext = '-----BEGIN AGE ENCRYPTED FILE-----\nAAAA\n-----END AGE ENCRYPTED FILE-----\n' WHERE name = 'broken'");
    await delivery.connected('gpu-01');
    const s = frames[0]!.body.update!.secrets;
    expect(s.map((x) => [x.name, x.ciphertext === undefined, x.unavailable])).toEqual([
      ['broken', true, "secret broken (version 1) is damaged in the hub's store: set it again; the node keeps the value it has"],
      ['good', false, undefined],
    ]);
    keys.delete('gpu-02');
    view = { revision: 'r3', workspaces: [{ name: 'acme-a', tenant: 'acme', node: 'gpu-02' }] };
    frames.length = 0;
    await delivery.connected('gpu-02');
    expect(frames).toEqual([{ node: 'gpu-02', body: { node: 'gpu-02', revision: 'r3', workspaces: [] } }]);
  });
});

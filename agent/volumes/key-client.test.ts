import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { encryptToRecipients, generateAgeKeyPair } from '../../common/secrets/age.js';
import type { VolumeKeyRef } from '../../common/volumes/volume-key-ref.js';
import { VolumeKeyClient } from './key-client.js';
import { VolumeKeyring } from './keyring.js';

const REF: VolumeKeyRef = { workspace: 'w1', kind: 'volume', name: 'data' };
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

async function setup() {
  const node = await generateAgeKeyPair();
  const keys = new VolumeKeyring();
  const link = Object.assign(new EventEmitter(), { asked: [] as VolumeKeyRef[][], requestVolumeKeys: (b: { keys: VolumeKeyRef[] }) => (link.asked.push(b.keys), true) });
  let synced = 0;
  const client = new VolumeKeyClient({ keys, link, identity: node.identity, onKeys: () => synced++, log: { warn() {}, info() {} } });
  return { node, keys, link, client, synced: () => synced };
}

describe('VolumeKeyClient', () => {
  it('asks for missed keys once per burst and again on reconnect; stores delivered keys and reconciles', async () => {
    const { node, keys, link, client, synced } = await setup();
    expect(() => keys.require(REF, 'ws.w1.vol.data')).toThrow(/VOLUME_KEY_MISSING|holds no key for volume data of workspace w1/);
    expect(() => keys.require({ ...REF, name: 'b' }, 'ws.w1.vol.b')).toThrow();
    await tick();
    expect(link.asked).toEqual([[REF, { ...REF, name: 'b' }]]);
    link.emit('connected');
    await tick();
    expect(link.asked).toHaveLength(2);
    const key = Buffer.alloc(32, 7);
    await client.handle({ node: 'n1', keys: [{ ...REF, ciphertext: await encryptToRecipients(key, [node.recipient]) }], refused: [{ ...REF, name: 'b', reason: 'workspace w1 is placed on node n2, not on n1' }] });
    expect(keys.require(REF, 'x').equals(key)).toBe(true);
    expect(() => keys.require({ ...REF, name: 'b' }, 'ws.w1.vol.b')).toThrow('this node holds no key for volume b of workspace w1: the hub refused it: workspace w1 is placed on node n2, not on n1');
    expect(synced()).toBe(1);
  });

  it('refuses a key encrypted to another node, and forgets destroyed workspaces', async () => {
    const { keys, client, synced } = await setup();
    const other = await generateAgeKeyPair();
    await client.handle({ node: 'n1', keys: [{ ...REF, ciphertext: await encryptToRecipients(Buffer.alloc(32, 1), [other.recipient]) }] });
    expect(() => keys.require(REF, 'x')).toThrow(/the key from the hub cannot be used: no key of this node can decrypt it/);
    expect(synced()).toBe(0);
    keys.set(REF, Buffer.alloc(32, 2));
    keys.set({ workspace: 'w2', kind: 'vm-disk', name: 'desk' }, Buffer.alloc(32, 3));
    const held = keys.get(REF)!;
    await client.handle({ node: 'n1', keys: [], forget: ['w1'] });
    expect(keys.get(REF)).toBeUndefined();
    expect(held.every((b) => b === 0)).toBe(true); // zeroed, not just dropped
    expect(keys.size()).toBe(1);
  });
});

/** HubSecretCache: applies the hub's secrets messages in memory, keeps the last good value on bad input, drops moved workspaces. */
import { beforeAll, describe, expect, it } from 'vitest';
import { armor, Decrypter, Encrypter, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { HubSecretCache } from './hub-secrets.js';

let identity: string;
let recipient: string;
let other: string;
const enc = async (to: string, v: string): Promise<string> => {
  const e = new Encrypter();
  e.addRecipient(to);
  return armor.encode(await e.encrypt(v));
};

beforeAll(async () => {
  identity = await generateX25519Identity();
  recipient = await identityToRecipient(identity);
  other = await identityToRecipient(await generateX25519Identity());
});

function cache(): { c: HubSecretCache; changes: string[][]; errors: string[] } {
  const changes: string[][] = [];
  const errors: string[] = [];
  const c = new HubSecretCache({
    decrypt: async (a) => {
      const d = new Decrypter();
      d.addIdentity(identity);
      return d.decrypt(armor.decode(a));
    },
    onChange: (w) => changes.push(w),
    log: { info() {}, warn() {}, error: (_o, m) => void errors.push(m ?? '') },
  });
  return { c, changes, errors };
}
const text = (v: Uint8Array | undefined): string | undefined => (v === undefined ? undefined : Buffer.from(v).toString());

describe('HubSecretCache', () => {
  it('takes new versions, ignores repeats, and drops workspaces no longer listed', async () => {
    const { c, changes } = cache();
    await c.apply({ node: 'n', revision: 'r', workspaces: ['w1'], update: { workspace: 'w1', secrets: [{ name: 'K', version: 1, ciphertext: await enc(recipient, 'one') }] } });
    expect(text(c.get('w1', 'K')?.value)).toBe('one');
    await c.apply({ node: 'n', revision: 'r', workspaces: ['w1'], update: { workspace: 'w1', secrets: [{ name: 'K', version: 1, ciphertext: await enc(recipient, 'one') }] } });
    await c.apply({ node: 'n', revision: 'r', workspaces: ['w1'], update: { workspace: 'w1', secrets: [{ name: 'K', version: 2, ciphertext: await enc(recipient, 'two') }] } });
    expect(text(c.get('w1', 'K')?.value)).toBe('two');
    await c.apply({ node: 'n', revision: 'r2', workspaces: [] });
    expect(c.get('w1', 'K')).toBeUndefined();
    expect(changes).toEqual([['w1'], ['w1'], ['w1']]);
    expect(c.versions()).toEqual({});
  });

  it('a damaged, truncated or foreign ciphertext, or an unavailable one, keeps the last good value with an error naming the secret', async () => {
    const { c, changes, errors } = cache();
    await c.apply({ node: 'n', revision: 'r', workspaces: ['w1'], update: { workspace: 'w1', secrets: [{ name: 'K', version: 1, ciphertext: await enc(recipient, 'good') }] } });
    const good = await enc(recipient, 'v2');
    for (const bad of [await enc(other, 'not for me'), good.slice(0, 120), good.replace(/\n[A-Za-z0-9+/]{10}/, '\nAAAAAAAAAA')]) {
      await c.apply({ node: 'n', revision: 'r', workspaces: ['w1'], update: { workspace: 'w1', secrets: [{ name: 'K', version: 2, ciphertext: bad }] } });
      expect(text(c.get('w1', 'K')?.value)).toBe('good');
    }
    await c.apply({ node: 'n', revision: 'r', workspaces: ['w1'], update: { workspace: 'w1', secrets: [{ name: 'K', version: 3, unavailable: 'damaged in the hub' }] } });
    expect(text(c.get('w1', 'K')?.value)).toBe('good');
    expect(errors.length).toBe(4);
    for (const e of errors) expect(e).toMatch(/^workspace secret w1\/K: .*; the last good value stays in use$/);
    expect(errors[3]).toBe('workspace secret w1/K: damaged in the hub; the last good value stays in use');
    expect(c.problems().get('w1/K')).toBe(errors[3]);
    expect(changes).toEqual([['w1']]);
  });
});

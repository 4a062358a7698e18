/**
 * The guacamole-auth-json format checked against an independent implementation: the `openssl` CLI, used
 * as Apache's reference script (encrypt-json.sh) uses it. With the all-zero IV the output is deterministic,
 * so our data must equal openssl's byte for byte, and openssl must decrypt ours and verify its signature.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseGuacamoleKey, signAndEncrypt } from './guacamole-token.js';

const KEY = '4c0b569e4c96df157eee1b65dd0e4d41';
const ZERO_IV = '00000000000000000000000000000000';

function openssl(args: string[], input: Buffer | string): Buffer {
  const r = spawnSync('openssl', args, { input });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr.toString()}`);
  return r.stdout;
}

const json = JSON.stringify({ username: 'tom', expires: 1765141200000, connections: { 'desk desktop': { protocol: 'vnc', parameters: { hostname: '10.0.0.5', port: '41234' } } } });

describe('guacamole-auth-json data', () => {
  it('equals what Apache\'s reference (openssl dgst | openssl enc) produces', () => {
    const signature = openssl(['dgst', '-sha256', '-mac', 'HMAC', '-macopt', `hexkey:${KEY}`, '-binary'], json);
    const reference = openssl(['enc', '-aes-128-cbc', '-K', KEY, '-iv', ZERO_IV, '-nosalt', '-a', '-A'], Buffer.concat([signature, Buffer.from(json)])).toString().trim();
    expect(signAndEncrypt(json, parseGuacamoleKey(KEY, 'key'))).toBe(reference);
  });

  it('decrypts with openssl to a valid HMAC-SHA256 signature followed by the json', () => {
    const data = signAndEncrypt(json, parseGuacamoleKey(KEY.toUpperCase(), 'key'));
    const plain = openssl(['enc', '-d', '-aes-128-cbc', '-K', KEY, '-iv', ZERO_IV, '-nosalt', '-a', '-A'], data);
    expect(plain.subarray(32).toString()).toBe(json);
    expect(plain.subarray(0, 32)).toEqual(openssl(['dgst', '-sha256', '-mac', 'HMAC', '-macopt', `hexkey:${KEY}`, '-binary'], plain.subarray(32)));
    // another key does not decrypt it to the same thing (wrong padding or garbage)
    const r = spawnSync('openssl', ['enc', '-d', '-aes-128-cbc', '-K', '00'.repeat(16), '-iv', ZERO_IV, '-nosalt', '-a', '-A'], { input: data });
    expect(r.status !== 0 || !r.stdout.subarray(32).equals(Buffer.from(json))).toBe(true);
  });

  it('refuses a key that is not 128 bits of hex, naming the source and never the value', () => {
    expect(() => parseGuacamoleKey('not-a-key-at-all', '/etc/foundry/guacamole.key')).toThrow('/etc/foundry/guacamole.key: the guacamole key must be 32 hexadecimal digits (128 bits)');
    expect(() => parseGuacamoleKey(`${KEY}00`, 'f')).toThrow(/^f: /);
    expect(parseGuacamoleKey(` ${KEY}\n`, 'f')).toEqual(Buffer.from(KEY, 'hex'));
  });
});

/** The hub → agent `secrets` message through the one decoder: valid frames pass, bad ones name the field and never throw. */
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, HUB_TO_AGENT, AGENT_TO_HUB } from './codec.js';

const ARMOR = '-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n';
const frame = (body: unknown): string => JSON.stringify({ v: 1, type: 'secrets', id: 's1', ts: '2026-12-07T10:00:00.000Z', body });

describe('secrets message', () => {
  it('round-trips a full set and a bare list', () => {
    for (const body of [
      { node: 'gpu-01', revision: 'abc', workspaces: ['acme-a'], update: { workspace: 'acme-a', secrets: [{ name: 'api-key', version: 2, ciphertext: ARMOR }, { name: 'db', version: 1, unavailable: 'damaged' }] } },
      { node: 'gpu-01', revision: 'abc', workspaces: [] },
    ] as const) {
      const d = decodeFrame(encodeFrame('secrets', body as never), HUB_TO_AGENT);
      expect(d.ok && d.msg.body).toEqual(body);
    }
  });

  it('names the field of a bad frame: plaintext instead of an age file, a bad name, a missing list', () => {
    const cases: Array<[unknown, string, string]> = [
      [{ node: 'n', revision: 'r', workspaces: ['w'], update: { workspace: 'w', secrets: [{ name: 'k', version: 1, ciphertext: 'plaintext!' }] } }, '/body/update/secrets/0/ciphertext', 'secrets message: /body/update/secrets/0/ciphertext must match pattern "^-----BEGIN AGE ENCRYPTED FILE-----"'],
      [{ node: 'n', revision: 'r', workspaces: ['w'], update: { workspace: 'w', secrets: [{ name: 'API_KEY', version: 1, ciphertext: ARMOR }] } }, '/body/update/secrets/0/name', 'secrets message: /body/update/secrets/0/name must match pattern "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"'],
      [{ node: 'n', revision: 'r' }, '/body', "secrets message: /body must have required property 'workspaces'"],
      [{ node: 'n', revision: 'r', workspaces: [], value: 'x' }, '/body/value', 'secrets message: /body/value is not allowed'],
    ];
    for (const [body, field, message] of cases) {
      expect(decodeFrame(frame(body), HUB_TO_AGENT)).toEqual({ ok: false, error: { code: 'PROTOCOL_FRAME', message, field, refType: 'secrets', refId: 's1' } });
    }
  });

  it('an agent cannot send one', () => {
    const d = decodeFrame(frame({ node: 'n', revision: 'r', workspaces: [] }), AGENT_TO_HUB);
    expect(d.ok ? '' : d.error.field).toBe('/type');
  });
});

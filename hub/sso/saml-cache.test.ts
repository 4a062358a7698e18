import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HubStore } from '../store/hub-store.js';
import { DbRequestCache, REQUEST_ID_TTL_MS, assertionSeen, recordAssertion } from './saml-cache.js';

const dir = mkdtempSync(join(tmpdir(), 'foundry-saml-cache-'));
const store = new HubStore(join(dir, 'hub.db'));
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('AuthnRequest ID cache', () => {
  let t = Date.parse('2026-12-07T10:00:00Z');
  const acme = new DbRequestCache(store.db, 'acme', () => new Date(t));
  const other = new DbRequestCache(store.db, 'other', () => new Date(t));

  it('knows an issued ID until it is used, per provider', async () => {
    expect(await acme.saveAsync('_r1', 'x')).toEqual({ value: 'x', createdAt: t });
    expect(await acme.saveAsync('_r1', 'x')).toBeNull(); // an ID is issued once
    expect(await acme.getAsync('_r1')).toBe('2026-12-07T10:00:00.000Z');
    expect(await other.getAsync('_r1')).toBeNull();
    expect(await acme.removeAsync('_r1')).toBe('2026-12-07T10:00:00.000Z');
    expect(await acme.getAsync('_r1')).toBeNull();
    expect(await acme.removeAsync(null)).toBeNull();
  });

  it('forgets an ID after its time to sign in, and prunes old ones at the next save', async () => {
    await acme.saveAsync('_r2', 'x');
    t += REQUEST_ID_TTL_MS - 1;
    expect(await acme.getAsync('_r2')).not.toBeNull();
    t += 1;
    expect(await acme.getAsync('_r2')).toBeNull();
    await acme.saveAsync('_r3', 'x');
    expect(store.db.prepare("SELECT id FROM saml_requests WHERE provider = 'acme'").all()).toEqual([{ id: '_r3' }]);
  });
});

describe('AuthnRequest IDs bound to a browser', () => {
  const at = () => new Date('2026-12-07T11:00:00Z');
  const browser = 'b'.repeat(43);

  it('reads an ID only with the binding it was issued with; unbound IDs read with any', async () => {
    await new DbRequestCache(store.db, 'tls', at, browser).saveAsync('_b1', 'x');
    expect(await new DbRequestCache(store.db, 'tls', at, browser).getAsync('_b1')).not.toBeNull();
    const other = new DbRequestCache(store.db, 'tls', at, 'c'.repeat(43));
    expect(await other.getAsync('_b1')).toBeNull();
    expect(other.bindingMismatch).toBe(true);
    const none = new DbRequestCache(store.db, 'tls', at);
    expect(await none.getAsync('_b1')).toBeNull();
    expect(none.bindingMismatch).toBe(true);
    await none.saveAsync('_b2', 'x');
    expect(await other.getAsync('_b2')).not.toBeNull();
  });
});

describe('assertion replay cache', () => {
  const now = new Date('2026-12-07T10:00:00Z');

  it('records an assertion ID once per provider and keeps it until it expires', () => {
    const entry = { provider: 'acme', id: '_a1', subject: 'alice', expiresAt: new Date(now.getTime() + 60_000) };
    expect(recordAssertion(store.db, entry, now)).toBe(true);
    expect(recordAssertion(store.db, entry, now)).toBe(false);
    expect(assertionSeen(store.db, 'acme', '_a1')).toBe(true);
    expect(assertionSeen(store.db, 'other', '_a1')).toBe(false);
    expect(recordAssertion(store.db, { ...entry, provider: 'other' }, now)).toBe(true);
    // pruned by a later record once past its expiry
    recordAssertion(store.db, { ...entry, id: '_a2' }, new Date(now.getTime() + 61_000));
    expect(assertionSeen(store.db, 'acme', '_a1')).toBe(false);
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubStore } from '../store/hub-store.js';
import { authenticateApiToken, createApiToken } from './api-tokens.js';
import { checkPassword, createUser, findSsoUser, getUser, ssoUserName, upsertSsoUser } from './users.js';

let dir: string;
let store: HubStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'foundry-sso-users-'));
  store = new HubStore(join(dir, 'hub.db'));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const now = new Date('2026-12-07T12:00:00Z');
const member = { role: 'tenant', tenant: 'acme', tenantRole: 'member' } as const;

describe('SSO users', () => {
  it('derives a safe name from the hint, suffixed with the provider', () => {
    expect(ssoUserName('Alice.Smith+x@acme.example', 'acme-entra')).toBe('alice.smith-x.acme-entra');
    expect(ssoUserName('../../etc/passwd', 'p')).toBe('etc-passwd.p');
    expect(ssoUserName('@@@', 'p')).toBe('user.p');
    expect(ssoUserName('a'.repeat(300), 'x'.repeat(63)).length).toBeLessThanOrEqual(64);
  });

  it('never takes over a local user of the same name, and links by provider and subject, not name or e-mail', async () => {
    await createUser(store.db, { name: 'alice.acme', role: 'admin' }, 'one-time-password-1', now);
    const first = upsertSsoUser(store.db, { provider: 'acme', subject: 's1', nameHint: 'alice@acme.example', groups: ['g'] }, member, now);
    expect(first).toMatchObject({ created: true, user: { name: 'alice.acme-2', role: 'tenant', tenant: 'acme', tenantRole: 'member', sso: { provider: 'acme', subject: 's1', groups: ['g'] } } });
    expect(getUser(store.db, 'alice.acme')).toMatchObject({ role: 'admin' });
    // Same subject, new e-mail and groups: the same user, updated.
    const again = upsertSsoUser(store.db, { provider: 'acme', subject: 's1', nameHint: 'renamed@acme.example', groups: ['h'] }, { role: 'tenant', tenant: 'acme', tenantRole: 'admin' }, now);
    expect(again).toMatchObject({ created: false, user: { name: 'alice.acme-2', tenantRole: 'admin', sso: { groups: ['h'] } } });
    // Same subject at another provider: another user.
    expect(upsertSsoUser(store.db, { provider: 'other', subject: 's1', nameHint: 'alice@acme.example', groups: [] }, member, now).created).toBe(true);
    expect(findSsoUser(store.db, 'acme', 's1')?.name).toBe('alice.acme-2');
  });

  it('has no password: no password logs an SSO user in locally', async () => {
    upsertSsoUser(store.db, { provider: 'acme', subject: 's1', nameHint: 'bob', groups: [] }, member, now);
    expect(await checkPassword(store.db, 'bob.acme', '!sso')).toBeUndefined();
    expect(await checkPassword(store.db, 'bob.acme', '')).toBeUndefined();
  });

  it('ends the sessions of a user whose role or tenant changes', () => {
    const { user } = upsertSsoUser(store.db, { provider: 'acme', subject: 's1', nameHint: 'bob', groups: [] }, member, now);
    store.db.prepare("INSERT INTO sessions (id_hash, user, csrf_token, created_at, last_seen_at, expires_at) VALUES ('h', ?, 'c', 'x', 'x', 'x')").run(user.name);
    upsertSsoUser(store.db, { provider: 'acme', subject: 's1', nameHint: 'bob', groups: [] }, member, now);
    expect(store.db.prepare('SELECT COUNT(*) AS n FROM sessions').get()).toEqual({ n: 1 });
    upsertSsoUser(store.db, { provider: 'acme', subject: 's1', nameHint: 'bob', groups: [] }, { role: 'admin' }, now);
    expect(store.db.prepare('SELECT COUNT(*) AS n FROM sessions').get()).toEqual({ n: 0 });
  });
});

describe('short-lived API tokens', () => {
  it('stop working at their expiry', () => {
    const { token } = createApiToken(store.db, { label: 'session:bob', role: 'tenant', tenant: 'acme', createdBy: 'tenant:bob', expiresAt: new Date(now.getTime() + 3600_000), user: 'bob' }, now);
    expect(authenticateApiToken(store.db, token, new Date(now.getTime() + 3599_000))).toMatchObject({ user: 'bob', expiresAt: '2026-12-07T13:00:00.000Z' });
    expect(authenticateApiToken(store.db, token, new Date(now.getTime() + 3600_000))).toBeUndefined();
  });
});

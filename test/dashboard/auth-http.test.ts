/** Dashboard auth at the HTTP level: first login with TOTP enrolment, cookies, CSRF, replay, recovery codes, rate limiting, API tokens, audit IPs. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../hub/support.js';
import { addUser, code, firstLogin, post, type Session } from './support.js';

describe('dashboard auth over http', () => {
  let hub: TestHub;
  let t = Date.parse('2026-11-27T10:00:10Z');
  let admin: Session;
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${hub.url}${path}`, { headers });

  beforeAll(async () => {
    hub = await startTestHub({ dashboard: { pollMs: 0, now: () => new Date(t), loginLimits: { windowMs: 15 * 60_000, perAccountIp: 5, perIp: 50 } } });
    await addUser(hub.store, 'ada', 'admin');
    await addUser(hub.store, 'tom', 'tenant', 'acme');
    await addUser(hub.store, 'eve', 'tenant', 'globex');
  });
  afterAll(async () => hub.close());

  it('first login asks for a new password and TOTP enrolment, then sets a strict HttpOnly session cookie', async () => {
    const login = await post(`${hub.url}/api/v1/auth/login`, { user: 'ada', password: 'one-time-password-1' });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ next: 'setup', mustChangePassword: true });
    expect(String(login.body.otpauthUri)).toMatch(/^otpauth:\/\/totp\/FoundryCloud:ada\?.*secret=[A-Z2-7]+/);
    expect(String(login.body.qrSvg)).toMatch(/^<svg /);
    const secret = new URL(String(login.body.otpauthUri)).searchParams.get('secret') ?? '';
    expect((await post(`${hub.url}/api/v1/auth/setup`, { ticket: login.body.ticket, newPassword: 'short', code: code(secret, t) })).status).toBe(400);
    expect((await post(`${hub.url}/api/v1/auth/setup`, { ticket: login.body.ticket, newPassword: 'a-long-new-password', code: '000000' })).status).toBe(401);
    const setup = await post(`${hub.url}/api/v1/auth/setup`, { ticket: login.body.ticket, newPassword: 'a-long-new-password', code: code(secret, t) });
    expect(setup.status).toBe(200);
    expect(setup.body).toMatchObject({ next: 'done', user: 'ada', role: 'admin', tenant: null });
    expect(setup.body.recoveryCodes).toHaveLength(10);
    const cookie = setup.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^foundry_session=[\w-]{43};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/');
    expect(cookie).not.toContain('Secure');
    admin = { cookie: cookie.split(';')[0] ?? '', csrf: String(setup.body.csrfToken), secret, recoveryCodes: setup.body.recoveryCodes as string[] };
    const me = await (await get('/api/v1/auth/me', { cookie: admin.cookie })).json();
    expect(me).toEqual({ subject: 'ada', role: 'admin', tenant: null, tenantRole: null, via: 'session', sso: null, csrfToken: admin.csrf });
    // The one-time password is gone.
    expect((await post(`${hub.url}/api/v1/auth/login`, { user: 'ada', password: 'one-time-password-1' })).status).toBe(401);
  });

  it('refuses state-changing requests with a session cookie but no or a wrong CSRF token, or from another origin', async () => {
    const create = (headers: Record<string, string>) => post(`${hub.url}/api/v1/api-tokens`, { label: 'ci' }, { cookie: admin.cookie, ...headers });
    expect(await create({})).toMatchObject({ status: 403, body: { code: 'AUTH_CSRF' } });
    expect(await create({ 'x-csrf-token': 'x'.repeat(32) })).toMatchObject({ status: 403, body: { code: 'AUTH_CSRF' } });
    expect(await create({ 'x-csrf-token': admin.csrf, origin: 'https://evil.example' })).toMatchObject({ status: 403, body: { code: 'AUTH_CSRF' } });
    // Other areas' routes are covered too (join tokens).
    expect(await post(`${hub.url}/api/v1/join-tokens`, {}, { cookie: admin.cookie })).toMatchObject({ status: 403, body: { code: 'AUTH_CSRF' } });
    const ok = await create({ 'x-csrf-token': admin.csrf, origin: hub.url });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ label: 'ci', role: 'admin', tenant: null, createdBy: 'admin:ada' });
    // A form post (not JSON) is refused before any handler runs.
    const form = await fetch(`${hub.url}/api/v1/auth/logout`, { method: 'POST', headers: { cookie: admin.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' });
    expect(form.status).toBe(403);
    const anonForm = await fetch(`${hub.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'user=ada&password=x' });
    expect(anonForm.status).toBe(415);
  });

  it('accepts a TOTP code once, and each recovery code once', async () => {
    t += 30_000;
    const c = code(admin.secret, t);
    expect((await post(`${hub.url}/api/v1/auth/login`, { user: 'ada', password: 'a-long-new-password', code: c })).body).toMatchObject({ next: 'done', user: 'ada' });
    expect((await post(`${hub.url}/api/v1/auth/login`, { user: 'ada', password: 'a-long-new-password', code: c })).status).toBe(401);
    const rc = admin.recoveryCodes[0] ?? '';
    expect((await post(`${hub.url}/api/v1/auth/login`, { user: 'ada', password: 'a-long-new-password', code: rc })).status).toBe(200);
    expect((await post(`${hub.url}/api/v1/auth/login`, { user: 'ada', password: 'a-long-new-password', code: rc })).status).toBe(401);
    expect((await post(`${hub.url}/api/v1/auth/login`, { user: 'ada', password: 'a-long-new-password' })).status).toBe(401);
  });

  it('rate-limits failed logins per account and address, even with the right password, until the window passes', async () => {
    t += 20 * 60_000; // the failures of the previous test leave the window
    const tom = await firstLogin(hub.url, 'tom', 'one-time-password-1', 'toms-new-password', t);
    for (let i = 0; i < 5; i++) expect((await post(`${hub.url}/api/v1/auth/login`, { user: 'tom', password: `wrong-${i}` })).status).toBe(401);
    t += 30_000;
    const blocked = await post(`${hub.url}/api/v1/auth/login`, { user: 'tom', password: 'toms-new-password', code: code(tom.secret, t) });
    expect(blocked.status).toBe(429);
    expect(blocked.body.code).toBe('RATE_LIMITED');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another account from the same address is not blocked.
    expect((await post(`${hub.url}/api/v1/auth/login`, { user: 'eve', password: 'one-time-password-1' })).body.next).toBe('setup');
    t += 15 * 60_000;
    expect((await post(`${hub.url}/api/v1/auth/login`, { user: 'tom', password: 'toms-new-password', code: code(tom.secret, t) })).status).toBe(200);
  });

  it('scopes API tokens: a tenant token sees only its tenant and no admin route; no CSRF header needed', async () => {
    t += 60_000;
    const tom = await post(`${hub.url}/api/v1/auth/login`, { user: 'tom', password: 'toms-new-password', code: code((await firstSecret('tom')) ?? '', t) });
    expect(tom.status).toBe(200);
    const tomCookie = (tom.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const csrf = String(tom.body.csrfToken);
    expect((await post(`${hub.url}/api/v1/api-tokens`, { label: 'x', role: 'admin' }, { cookie: tomCookie, 'x-csrf-token': csrf })).status).toBe(403);
    expect((await post(`${hub.url}/api/v1/api-tokens`, { label: 'x', tenant: 'globex' }, { cookie: tomCookie, 'x-csrf-token': csrf })).status).toBe(403);
    const made = await post(`${hub.url}/api/v1/api-tokens`, { label: 'acme-ci' }, { cookie: tomCookie, 'x-csrf-token': csrf });
    expect(made.body).toMatchObject({ label: 'acme-ci', role: 'tenant', tenant: 'acme' });
    const bearer = { authorization: `Bearer ${String(made.body.token)}` };
    expect(await (await get('/api/v1/auth/me', bearer)).json()).toEqual({ subject: 'token:acme-ci', role: 'tenant', tenant: 'acme', tenantRole: 'member', via: 'api-token', sso: null, csrfToken: null });
    // The node list is for admins: a tenant token gets 403, an admin session 200 (not only admin tokens).
    expect((await get('/api/v1/nodes', bearer)).status).toBe(403);
    expect((await get('/api/v1/nodes', { cookie: admin.cookie })).status).toBe(200);
    for (const path of ['/api/v1/overview', '/api/v1/fleet/nodes', '/api/v1/audit', '/api/v1/fleet/enrollments', '/api/v1/join-tokens']) expect((await get(path, bearer)).status, path).toBe(403);
    const listed = (await (await get('/api/v1/api-tokens', bearer)).json()) as { tokens: Array<{ label: string }> };
    expect(listed.tokens.map((x) => x.label)).toEqual(['acme-ci']);
    // The admin's token is invisible to the tenant (404, as for a missing one).
    const adminTokens = (await (await get('/api/v1/api-tokens', { cookie: admin.cookie })).json()) as { tokens: Array<{ id: string; label: string }> };
    const ci = adminTokens.tokens.find((x) => x.label === 'ci');
    expect((await post(`${hub.url}/api/v1/api-tokens/${ci?.id}/revoke`, {}, bearer)).status).toBe(404);
    expect((await post(`${hub.url}/api/v1/api-tokens/${String(made.body.id)}/revoke`, {}, bearer)).status).toBe(200);
    expect((await get('/api/v1/auth/me', bearer)).status).toBe(401);
  });

  it('logs every login, failure and token change in the audit log with the client address', async () => {
    const r = (await (await get('/api/v1/audit?limit=500', { cookie: admin.cookie })).json()) as { entries: Array<{ actor: string; action: string; ip: string | null }> };
    const actions = r.entries.map((e) => `${e.actor} ${e.action}`);
    expect(actions).toContain('user:ada auth.setup');
    expect(actions).toContain('user:ada auth.login');
    expect(actions).toContain('user:tom auth.login.fail');
    expect(actions).toContain('admin:ada api-token.create');
    expect(actions).toContain('tenant:token:acme-ci api-token.revoke');
    expect(r.entries.every((e) => e.ip === '127.0.0.1')).toBe(true);
  });

  it('never stores a password typed into the user-name field in the audit log', async () => {
    const typo = 'Tr0ub4dor&3-horse-battery';
    expect((await post(`${hub.url}/api/v1/auth/login`, { user: typo, password: 'x' })).status).toBe(401);
    const r = (await (await get('/api/v1/audit?limit=500', { cookie: admin.cookie })).json()) as { entries: Array<{ actor: string; action: string; target: string | null }> };
    expect(JSON.stringify(r.entries)).not.toContain(typo);
    expect(JSON.stringify(hub.store.db.prepare('SELECT * FROM audit_log').all())).not.toContain(typo);
    expect(r.entries[0]).toMatchObject({ actor: 'user:(unknown user)', action: 'auth.login.fail', target: '(unknown user)' });
  });

  it('logs out: the cookie no longer works', async () => {
    const out = await post(`${hub.url}/api/v1/auth/logout`, {}, { cookie: admin.cookie, 'x-csrf-token': admin.csrf });
    expect(out.body).toEqual({ loggedOut: true, redirect: '/ui/' });
    expect((await get('/api/v1/auth/me', { cookie: admin.cookie })).status).toBe(401);
  });

  async function firstSecret(user: string): Promise<string | undefined> {
    return (await hub.store.users.get(user))?.totpSecret ?? undefined;
  }
});

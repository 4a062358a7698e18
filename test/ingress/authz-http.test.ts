/**
 * The hub's ingress routes over HTTP, as nginx and browsers call them: every allow and deny of
 * /ingress/authz (API tokens with and without the apps scope, app-session cookies bound to their host,
 * another tenant, expired and logged-out sessions), the login handshake (rd validation, one-time codes
 * used once, cookie attributes), app logout, and the apps list of the API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_LIMITS } from '../../hub/auth/sessions.js';
import { firstLogin, post, type Session } from '../dashboard/support.js';
import { startAuthHub, type AuthHub } from './auth-fixture.js';

const WEB = 'web--acme-one.apps.localhost:8480';
const LLM = 'llm--acme-one.apps.localhost:8480';
const GLOBEX = 'web--globex-one.apps.localhost:8480';

describe('ingress authorisation over http', () => {
  let hub: AuthHub;
  let tom: Session;
  let eve: Session;
  let ada: Session;
  const tokens: Record<string, { token: string; id: string }> = {};

  const authz = (host: string | undefined, headers: Record<string, string> = {}) =>
    fetch(`${hub.url}/ingress/authz`, { headers: { ...(host === undefined ? {} : { 'x-foundry-host': host }), 'x-foundry-uri': '/x', 'x-foundry-method': 'GET', ...headers } });
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${hub.url}${path}`, { headers, redirect: 'manual' });
  const login = (rd: string, cookie?: string) => get(`/ingress/login?rd=${encodeURIComponent(rd)}`, cookie === undefined ? {} : { cookie });
  const callback = (host: string, location: string) => {
    const u = new URL(location);
    return get(`/ingress/callback${u.search}`, { 'x-foundry-host': host });
  };
  /** The whole handshake for `s` on `host`: login → code → callback; returns the app cookie (name=value). */
  const appCookie = async (s: Session, host: string, path = '/'): Promise<string> => {
    const l = await login(`http://${host}${path}`, s.cookie);
    expect(l.status).toBe(302);
    const c = await callback(host, l.headers.get('location') ?? '');
    expect(c.status).toBe(302);
    return (c.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  };
  const makeToken = async (s: Session, body: Record<string, unknown>) => {
    const r = await post(`${hub.url}/api/v1/api-tokens`, body, { cookie: s.cookie, 'x-csrf-token': s.csrf });
    expect(r.status).toBe(201);
    return { token: String(r.body.token), id: String(r.body.id), body: r.body };
  };

  beforeAll(async () => {
    hub = await startAuthHub({ hubUrl: 'http://hub.example.test' });
    tom = await firstLogin(hub.url, 'tom', 'one-time-password-1', 'toms-new-password', hub.clock.t);
    eve = await firstLogin(hub.url, 'eve', 'one-time-password-1', 'eves-new-password', hub.clock.t);
    ada = await firstLogin(hub.url, 'ada', 'one-time-password-1', 'adas-new-password', hub.clock.t);
    tokens.acmeApps = await makeToken(tom, { label: 'acme-apps', scopes: ['apps'] });
    tokens.acmeApi = await makeToken(tom, { label: 'acme-api' });
    tokens.globexApps = await makeToken(eve, { label: 'globex-apps', scopes: ['apps', 'api'] });
    tokens.adminApps = await makeToken(ada, { label: 'ops-apps', scopes: ['apps'] });
  }, 60_000);
  afterAll(async () => hub?.close());

  it('creates tokens with scopes, lists them without the secret, and refuses an unknown scope', async () => {
    const list = (await (await get('/api/v1/api-tokens', { cookie: tom.cookie })).json()) as { tokens: Array<Record<string, unknown>> };
    expect(list.tokens.map((t) => [t.label, t.scopes, t.tenant])).toEqual(expect.arrayContaining([['acme-apps', ['apps'], 'acme'], ['acme-api', ['api'], 'acme']]));
    expect(JSON.stringify(list)).not.toContain('fapi_');
    const globex = (await (await get('/api/v1/api-tokens', { cookie: eve.cookie })).json()) as { tokens: Array<Record<string, unknown>> };
    expect(globex.tokens.map((t) => [t.label, t.scopes])).toEqual([['globex-apps', ['api', 'apps']]]);
    const bad = await post(`${hub.url}/api/v1/api-tokens`, { label: 'x', scopes: ['root'] }, { cookie: tom.cookie, 'x-csrf-token': tom.csrf });
    expect(bad.status).toBe(400);
    expect((await post(`${hub.url}/api/v1/api-tokens`, { label: 'x', scopes: [] }, { cookie: tom.cookie, 'x-csrf-token': tom.csrf })).status).toBe(400);
  });

  it('answers 404, naming nothing, for a host that is no app of this ingress', async () => {
    for (const host of [undefined, 'evil.example', 'apps.localhost', 'web--nope.apps.localhost:8480', 'nope--acme-one.apps.localhost:8480', 'web--acme-one.apps.localhost.evil.example', 'x.web--acme-one.apps.localhost']) {
      const r = await authz(host, { authorization: `Bearer ${tokens.adminApps?.token}` });
      expect([host, r.status, await r.text()]).toEqual([host, 404, '']);
    }
  });

  it('answers 401 without a credential, with an unknown cookie or token, a token without the apps scope, or only the app\'s own Authorization', async () => {
    const cases: Array<Record<string, string>> = [
      {},
      { cookie: 'foundry_app=not-a-session' },
      { cookie: `${tom.cookie}` }, // the dashboard session itself is no app session
      { authorization: 'Bearer fapi_unknownunknownunknownunknownunknownunknown1' },
      { authorization: `Bearer ${tokens.acmeApi?.token}` },
      { authorization: 'Basic dXNlcjpwYXNzd29yZA==' },
      { authorization: 'Bearer some-apps-own-token' },
    ];
    for (const headers of cases) {
      const r = await authz(WEB, headers);
      expect([headers, r.status]).toEqual([headers, 401]);
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(r.headers.get('x-foundry-tenant')).toBeNull();
      // nginx sends browsers to this login URL, with the way back url-encoded.
      expect(r.headers.get('x-foundry-login')).toBe(`http://hub.example.test/ingress/login?rd=${encodeURIComponent('http://web--acme-one.apps.localhost:8480/x')}`);
    }
    const odd = await authz(WEB, { 'x-foundry-uri': '//evil.example/?a=b&c=d' });
    expect(odd.headers.get('x-foundry-login')).toBe(`http://hub.example.test/ingress/login?rd=${encodeURIComponent('http://web--acme-one.apps.localhost:8480/')}`);
    const query = await authz(WEB, { 'x-foundry-uri': '/chat?a=b&c=d' });
    expect(query.headers.get('x-foundry-login')).toBe(`http://hub.example.test/ingress/login?rd=${encodeURIComponent('http://web--acme-one.apps.localhost:8480/chat?a=b&c=d')}`);
    // A login URL is only for 401: the others say nothing of where to go.
    expect((await authz(GLOBEX, { authorization: `Bearer ${tokens.acmeApps?.token}` })).headers.get('x-foundry-login')).toBeNull();
  });

  it('allows a tenant apps token on its own tenant\'s apps and answers 403 on another tenant\'s; admin tokens reach all', async () => {
    const own = await authz(WEB, { authorization: `Bearer ${tokens.acmeApps?.token}` });
    expect(own.status).toBe(204);
    expect(own.headers.get('x-foundry-tenant')).toBe('acme');
    expect(own.headers.get('x-foundry-principal')).toBe(`token:${tokens.acmeApps?.id}`);
    expect(own.headers.get('cache-control')).toBe('private, max-age=5');
    expect((await authz(LLM, { authorization: `Bearer ${tokens.acmeApps?.token}` })).status).toBe(204);
    const other = await authz(GLOBEX, { authorization: `Bearer ${tokens.acmeApps?.token}` });
    expect(other.status).toBe(403);
    expect(other.headers.get('x-foundry-tenant')).toBeNull();
    expect((await authz(WEB, { authorization: `Bearer ${tokens.globexApps?.token}` })).status).toBe(403);
    expect((await authz(GLOBEX, { authorization: `Bearer ${tokens.globexApps?.token}` })).status).toBe(204);
    for (const host of [WEB, GLOBEX]) expect((await authz(host, { authorization: `Bearer ${tokens.adminApps?.token}` })).headers.get('x-foundry-principal')).toBe(`token:${tokens.adminApps?.id}`);
  });

  it('stops accepting a token once revoked, and an apps-only token never reaches the hub API', async () => {
    const t = await makeToken(tom, { label: 'short-lived', scopes: ['apps'] });
    expect((await authz(WEB, { authorization: `Bearer ${t.token}` })).status).toBe(204);
    expect((await get('/api/v1/workspaces', { authorization: `Bearer ${t.token}` })).status).toBe(401);
    expect((await post(`${hub.url}/api/v1/api-tokens/${t.id}/revoke`, {}, { cookie: tom.cookie, 'x-csrf-token': tom.csrf })).status).toBe(200);
    expect((await authz(WEB, { authorization: `Bearer ${t.token}` })).status).toBe(401);
  });

  it('refuses every rd that is not an app of this ingress (no open redirect)', async () => {
    for (const rd of ['https://evil.example/', '//evil.example/', '/ui/', 'javascript:alert(1)', 'http://web--acme-one.apps.localhost.evil.example:8480/', 'http://web--acme-one.apps.localhost:9999/', 'https://web--acme-one.apps.localhost:8480/', 'http://u:p@web--acme-one.apps.localhost:8480/']) {
      const r = await login(rd, tom.cookie);
      expect([rd, r.status, r.headers.get('location')]).toEqual([rd, 400, null]);
    }
    expect((await get('/ingress/login', { cookie: tom.cookie })).status).toBe(400);
    expect((await login('http://nope--acme-one.apps.localhost:8480/', tom.cookie)).status).toBe(404);
  });

  it('sends a visitor without a dashboard session to the dashboard login, which comes back to /ingress/login', async () => {
    const rd = 'http://web--acme-one.apps.localhost:8480/chat?x=1';
    const r = await login(rd);
    expect(r.status).toBe(302);
    expect(r.headers.get('location')).toBe(`/ui/?next=${encodeURIComponent(`/ingress/login?rd=${encodeURIComponent(rd)}`)}`);
  });

  it('issues a one-time code for the app host, which sets a host-only, HttpOnly, SameSite=Lax app cookie and returns to the path', async () => {
    const rd = 'http://web--acme-one.apps.localhost:8480/chat/1?x=%2F2';
    const l = await login(rd, tom.cookie);
    expect(l.status).toBe(302);
    const location = l.headers.get('location') ?? '';
    expect(location).toMatch(/^http:\/\/web--acme-one\.apps\.localhost:8480\/\.foundry\/callback\?code=[\w-]{43}&rd=%2Fchat%2F1%3Fx%3D%252F2$/);
    expect(location).not.toContain(tom.cookie.split('=')[1] ?? 'x');
    expect(l.headers.get('set-cookie')).toBeNull();
    const c = await callback(WEB, location);
    expect(c.status).toBe(302);
    expect(c.headers.get('location')).toBe('/chat/1?x=%2F2');
    const cookie = c.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^foundry_app=[\w-]{43}; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(Number(/Max-Age=(\d+)/.exec(cookie)?.[1])).toBeLessThanOrEqual(SESSION_LIMITS.maxMs / 1000);
    expect(c.headers.get('cache-control')).toBe('no-store');
    const app = cookie.split(';')[0] ?? '';
    expect(app).not.toBe(tom.cookie.replace('foundry_session', 'foundry_app'));
    const ok = await authz(WEB, { cookie: `other=1; ${app}` });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('x-foundry-principal')).toBe('user:tom');
    expect(ok.headers.get('x-foundry-tenant')).toBe('acme');
    // Bound to its host: the same cookie sent to another app (even of the same workspace) is no session there.
    expect((await authz(LLM, { cookie: app })).status).toBe(401);
    // Used once: the same code again opens nothing.
    const again = await callback(WEB, location);
    expect(again.status).toBe(400);
    expect(again.headers.get('set-cookie')).toBeNull();
    expect(await again.text()).toContain('This sign-in link has expired');
  });

  it('refuses a code on another host (and burns it), an expired code, and a callback that is not on an app host', async () => {
    const l1 = (await login(`http://${WEB}/`, tom.cookie)).headers.get('location') ?? '';
    expect((await callback(LLM, l1)).status).toBe(400);
    expect((await callback(WEB, l1)).status).toBe(400);
    const l2 = (await login(`http://${WEB}/`, tom.cookie)).headers.get('location') ?? '';
    hub.clock.t += 61_000;
    expect((await callback(WEB, l2)).status).toBe(400);
    const l3 = (await login(`http://${WEB}/`, tom.cookie)).headers.get('location') ?? '';
    expect((await get(`/ingress/callback${new URL(l3).search}`)).status).toBe(400);
    expect((await get(`/ingress/callback${new URL(l3).search}`, { 'x-foundry-host': 'evil.example' })).status).toBe(400);
  });

  it('shows another tenant\'s user a 403 page and issues no code', async () => {
    const r = await login(`http://${WEB}/`, eve.cookie);
    expect(r.status).toBe(403);
    expect(r.headers.get('location')).toBeNull();
    const body = await r.text();
    expect(body).toContain('No access to this app');
    expect(body).not.toContain('acme');
    expect(body).toContain('href="http://hub.example.test/ui/"');
    // An admin may open every tenant's apps.
    expect((await authz(GLOBEX, { cookie: await appCookie(ada, GLOBEX) })).headers.get('x-foundry-principal')).toBe('user:ada');
  });

  it('answers 403 when the user of a live app session has moved to another tenant', async () => {
    const cookie = await appCookie(tom, WEB);
    hub.store.db.prepare("UPDATE users SET tenant = 'globex' WHERE name = 'tom'").run();
    try {
      expect((await authz(WEB, { cookie })).status).toBe(403);
    } finally {
      hub.store.db.prepare("UPDATE users SET tenant = 'acme' WHERE name = 'tom'").run();
    }
    expect((await authz(WEB, { cookie })).status).toBe(204);
  });

  it('keeps the dashboard session alive while the app is used, and ends the app session with it (idle timeout, logout)', async () => {
    const cookie = await appCookie(tom, WEB);
    hub.clock.t += SESSION_LIMITS.idleMs - 60_000;
    expect((await authz(WEB, { cookie })).status).toBe(204);
    hub.clock.t += SESSION_LIMITS.idleMs - 60_000;
    expect((await authz(WEB, { cookie })).status).toBe(204);
    // Idle longer than the timeout: the dashboard session is over, and so is the app's.
    hub.clock.t += SESSION_LIMITS.idleMs + 1000;
    expect((await authz(WEB, { cookie })).status).toBe(401);
    tom = await relogin(hub, 'tom', 'toms-new-password', tom);
    const fresh = await appCookie(tom, WEB);
    expect((await authz(WEB, { cookie: fresh })).status).toBe(204);
    expect((await post(`${hub.url}/api/v1/auth/logout`, {}, { cookie: tom.cookie, 'x-csrf-token': tom.csrf })).status).toBe(200);
    expect((await authz(WEB, { cookie: fresh })).status).toBe(401);
  });

  it('ends only the app session at app logout and clears its cookie', async () => {
    tom = await relogin(hub, 'tom', 'toms-new-password', tom);
    const cookie = await appCookie(tom, WEB);
    const r = await get('/ingress/logout', { 'x-foundry-host': WEB, cookie });
    expect(r.status).toBe(200);
    expect(r.headers.get('set-cookie')).toMatch(/^foundry_app=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax$/);
    expect((await authz(WEB, { cookie })).status).toBe(401);
    expect((await get('/api/v1/auth/me', { cookie: tom.cookie })).status).toBe(200);
  });

  it('lists a workspace\'s apps to its tenant and admins (others 404), with URLs, state and a curl example without a key', async () => {
    const r = await get('/api/v1/workspaces/acme-one/apps', { cookie: tom.cookie });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({
      workspace: 'acme-one',
      tenant: 'acme',
      apps: [
        { name: 'llm', url: 'http://llm--acme-one.apps.localhost:8480/', protocol: 'http', api: true, container: 'main', containerPort: 8081, state: 'unroutable', reason: 'the workspace is not running yet', example: 'curl -H "Authorization: Bearer $FOUNDRY_APPS_KEY" http://llm--acme-one.apps.localhost:8480/' },
        { name: 'web', url: 'http://web--acme-one.apps.localhost:8480/', protocol: 'http', api: false, container: 'main', containerPort: 8080, state: 'unroutable', reason: 'the workspace is not running yet', example: null },
      ],
    });
    expect((await get('/api/v1/workspaces/globex-one/apps', { cookie: tom.cookie })).status).toBe(404);
    expect((await get('/api/v1/workspaces/nope/apps', { cookie: tom.cookie })).status).toBe(404);
    expect((await get('/api/v1/workspaces/globex-one/apps', { authorization: `Bearer ${hub.admin}` })).status).toBe(200);
    expect((await get('/api/v1/workspaces/acme-one/apps')).status).toBe(401);
    expect((await get('/api/v1/workspaces/acme-one/apps', { authorization: `Bearer ${tokens.acmeApps?.token}` })).status).toBe(401);
    expect((await get('/api/v1/workspaces/acme-one/apps', { authorization: `Bearer ${tokens.acmeApi?.token}` })).status).toBe(200);
  });
});

async function relogin(hub: AuthHub, user: string, password: string, old: Session): Promise<Session> {
  const { code } = await import('../dashboard/support.js');
  hub.clock.t += 30_000;
  const r = await post(`${hub.url}/api/v1/auth/login`, { user, password, code: code(old.secret, hub.clock.t) });
  if (r.status !== 200) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { ...old, cookie: (r.headers.get('set-cookie') ?? '').split(';')[0] ?? '', csrf: String(r.body.csrfToken) };
}

describe('ingress authorisation behind https', () => {
  let hub: AuthHub;
  beforeAll(async () => {
    hub = await startAuthHub({ apps: { domain: 'apps.example.eu', scheme: 'https' } });
  }, 60_000);
  afterAll(async () => hub?.close());

  it('marks the app cookie Secure and sends the code to the https origin without a port', async () => {
    const tom = await firstLogin(hub.url, 'tom', 'one-time-password-1', 'toms-new-password', hub.clock.t);
    const l = await fetch(`${hub.url}/ingress/login?rd=${encodeURIComponent('https://web--acme-one.apps.example.eu/a')}`, { headers: { cookie: tom.cookie }, redirect: 'manual' });
    const location = l.headers.get('location') ?? '';
    expect(location).toMatch(/^https:\/\/web--acme-one\.apps\.example\.eu\/\.foundry\/callback\?code=[\w-]{43}&rd=%2Fa$/);
    expect((await fetch(`${hub.url}/ingress/login?rd=${encodeURIComponent('http://web--acme-one.apps.example.eu/a')}`, { headers: { cookie: tom.cookie }, redirect: 'manual' })).status).toBe(400);
    const c = await fetch(`${hub.url}/ingress/callback${new URL(location).search}`, { headers: { 'x-foundry-host': 'web--acme-one.apps.example.eu' }, redirect: 'manual' });
    expect(c.headers.get('set-cookie')).toMatch(/^foundry_app=[\w-]{43}; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
  });
});

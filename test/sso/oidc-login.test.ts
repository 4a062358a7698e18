/**
 * OpenID Connect sign-in end to end: a real OpenID Provider (oidc-provider, its own process) and the hub
 * in real headless Chromium. A mapped user signs in through the IdP's login page and lands on its
 * tenant's dashboard; an unmapped one is refused with the reason; ID tokens with a foreign signature, a
 * wrong audience, an expired one or a replayed nonce are refused, as is a replayed callback; the IdP
 * rotates its keys and the next login works; MFA required without amr asks a TOTP step-up; a removed
 * mapping ends the session; an unreachable IdP is explained on the login page while local login works.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { describeIf, commandWorks } from '../support/requires.js';
import { signingKey } from '../support/oidc-provider.js';
import { waitFor } from '../hub/support.js';
import { addUser, code, firstLogin, post } from '../dashboard/support.js';
import { acmeProvider, startOidcHub, type OidcHub } from './oidc-hub.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let hub: OidcHub;
let browser: Browser;
const contexts: BrowserContext[] = [];

async function freshPage(): Promise<Page> {
  const ctx = await browser.newContext();
  contexts.push(ctx);
  return ctx.newPage();
}

/** From the hub's login page through the IdP's form; resolves once the browser is back at the hub. */
async function signIn(page: Page, login: string, password: string): Promise<void> {
  await page.goto(`${hub.url}/ui/`);
  await page.getByTestId('sso-acme-sso').click();
  await page.locator('#op-login').waitFor();
  await page.locator('#op-login').fill(login);
  await page.locator('#op-password').fill(password);
  await page.locator('#op-submit').click();
  await page.waitForURL((u) => u.href.startsWith(hub.url));
}

function audit(): Array<{ actor: string; action: string; target: string | null; details: Record<string, unknown> }> {
  return (hub.store.db.prepare('SELECT actor, action, target, details FROM audit_log ORDER BY id').all() as Array<{ actor: string; action: string; target: string | null; details: string | null }>).map((r) => ({ ...r, details: JSON.parse(r.details ?? '{}') as Record<string, unknown> }));
}

describeIf(commandWorks(CHROMIUM), 'Chromium', 'apt-get install chromium')('OIDC sign-in against a real OpenID Provider', () => {
  beforeAll(async () => {
    hub = await startOidcHub();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  }, 60_000);
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await hub?.close();
  });

  it('shows a button per provider, and why the unreachable one cannot be used', async () => {
    const page = await freshPage();
    await page.goto(`${hub.url}/ui/`);
    await expect.poll(() => page.getByTestId('sso-acme-sso').textContent()).toBe('Sign in with ACME SSO');
    expect(await page.getByTestId('sso-acme-sso').getAttribute('href')).toBe('/auth/oidc/acme-sso/start');
    expect(await page.getByTestId('sso-problem-staff').textContent()).toMatch(/^Unavailable: identity provider staff: discovery at http:\/\/127\.0\.0\.1:\d+\/realms\/staff failed: fetch failed: connect ECONNREFUSED 127\.0\.0\.1:\d+\. Local accounts can still log in below\.$/);
    expect(await page.getByTestId('sso-problem-acme-sso').count()).toBe(0);
    // The local form stays (break-glass admin).
    expect(await page.getByRole('button', { name: 'Log in' }).count()).toBe(1);
  });

  it("signs a mapped user in through the IdP's login page onto its tenant's dashboard; a replayed callback is refused", async () => {
    const page = await freshPage();
    let callback = '';
    page.on('request', (r) => {
      if (r.url().includes('/auth/oidc/acme-sso/callback')) callback = r.url();
    });
    await signIn(page, 'alice', 'alice-pw');
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    expect(page.url()).toBe(`${hub.url}/ui/#/workspaces`);
    expect(await page.locator('#who-name').textContent()).toBe('alice.acme-sso (tenant acme)');
    const me = await page.evaluate(async () => (await fetch('/api/v1/auth/me')).json());
    expect(me).toMatchObject({ subject: 'alice.acme-sso', role: 'tenant', tenant: 'acme', tenantRole: 'member', via: 'session', sso: 'acme-sso' });
    const entries = audit();
    expect(entries.find((e) => e.action === 'user.create')).toMatchObject({ actor: 'sso:acme-sso', target: 'alice.acme-sso', details: { provider: 'acme-sso', protocol: 'oidc', subject: 'sub-alice', role: 'tenant', tenant: 'acme' } });
    expect(entries.find((e) => e.action === 'auth.login')).toMatchObject({ actor: 'user:alice.acme-sso', details: { provider: 'acme-sso', subject: 'sub-alice', mfa: true, group: 'acme-users' } });
    // The code and state of that callback were spent: the same URL again is refused.
    expect(callback).toMatch(/[?&]state=/);
    const replay = await (await freshPage()).context().newPage();
    await replay.goto(callback);
    expect(await replay.getByTestId('sso-error').textContent()).toBe('this sign-in was already used or has expired: start again from the login page');
  });

  it("brings a user who came from a workspace app back to it after the IdP, with the session cookie; any other next is dropped", async () => {
    const next = `/ingress/login?rd=${encodeURIComponent('http://ollama--ws-next.apps.localhost:8088/api/tags')}`;
    const page = await freshPage();
    const back: Array<{ url: string; cookie: string }> = [];
    page.on('request', (r) => {
      if (r.url().startsWith(`${hub.url}/ingress/login`)) void r.allHeaders().then((h) => back.push({ url: r.url(), cookie: h.cookie ?? '' }));
    });
    await page.goto(`${hub.url}/ui/?next=${encodeURIComponent(next)}`);
    expect(await page.getByTestId('sso-acme-sso').getAttribute('href')).toBe(`/auth/oidc/acme-sso/start?next=${encodeURIComponent(next)}`);
    await page.getByTestId('sso-acme-sso').click();
    await page.locator('#op-login').fill('alice');
    await page.locator('#op-password').fill('alice-pw');
    await page.locator('#op-submit').click();
    // The hub sends the browser to its dashboard, which follows next: the app login sees the session.
    await expect.poll(() => back.length).toBe(1);
    expect(back[0]?.url).toBe(`${hub.url}${next}`);
    expect(back[0]?.cookie).toMatch(/(^|; )foundry_session=/);
    // The hub itself drops a next that is not its app login (no open redirect through the sign-in).
    for (const bad of ['https://evil.example/', '//evil.example/ingress/login?rd=x', '/ui/#/billing', '/ingress/loginx?rd=1']) {
      const r = await fetch(`${hub.url}/auth/oidc/acme-sso/start?next=${encodeURIComponent(bad)}`, { redirect: 'manual' });
      expect(r.status).toBe(303);
      expect(r.headers.getSetCookie().some((c) => c.startsWith('foundry_sso_next='))).toBe(false);
    }
    const ok = await fetch(`${hub.url}/auth/oidc/acme-sso/start?next=${encodeURIComponent(next)}`, { redirect: 'manual' });
    expect(ok.headers.getSetCookie().find((c) => c.startsWith('foundry_sso_next='))).toContain(`foundry_sso_next=${encodeURIComponent(next)}`);
  });

  it('refuses a callback from another browser than the one that started the sign-in (login CSRF), and shows IdP errors', async () => {
    const begin = async () => {
      const r = await fetch(`${hub.url}/auth/oidc/acme-sso/start`, { redirect: 'manual' });
      expect(r.status).toBe(303);
      const auth = new URL(r.headers.get('location') ?? '');
      expect(auth.origin).toBe(hub.op.issuer);
      expect(Object.fromEntries(['response_type', 'client_id', 'code_challenge_method', 'scope'].map((k) => [k, auth.searchParams.get(k)]))).toEqual({ response_type: 'code', client_id: 'foundry', code_challenge_method: 'S256', scope: 'openid email profile groups' });
      expect(auth.searchParams.get('nonce')).toMatch(/^[\w-]{40,}$/);
      const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      expect(r.headers.get('set-cookie')).toMatch(/^foundry_sso_login=[\w-]{43}; Max-Age=600; Path=\/auth\/; HttpOnly; SameSite=Lax$/);
      return { state: auth.searchParams.get('state') ?? '', cookie };
    };
    const text = async (r: Response) => (await r.text()).replace(/<[^>]+>/g, ' ');
    const a = await begin();
    const stranger = await fetch(`${hub.url}/auth/oidc/acme-sso/callback?code=x&state=${a.state}`, { redirect: 'manual' });
    expect(stranger.status).toBe(400);
    expect(await text(stranger)).toContain('this sign-in was started in another browser: start again from the login page');
    const b = await begin();
    const denied = await fetch(`${hub.url}/auth/oidc/acme-sso/callback?error=access_denied&error_description=${encodeURIComponent('<b>user cancelled</b>')}&state=${b.state}`, { redirect: 'manual', headers: { cookie: b.cookie } });
    expect(denied.status).toBe(401);
    const page = await denied.text();
    expect(page).toContain('the identity provider answered access_denied: &lt;b&gt;user cancelled&lt;/b&gt;');
    expect(page).not.toContain('<b>user cancelled');
    const c = await begin();
    const forged = await fetch(`${hub.url}/auth/oidc/acme-sso/callback?code=forged&state=${c.state}&iss=${encodeURIComponent(hub.op.issuer)}`, { redirect: 'manual', headers: { cookie: c.cookie } });
    expect(forged.status).toBe(401);
    expect(await text(forged)).toMatch(/identity provider acme-sso: the login could not be verified: .*invalid_grant/);
  });

  it('bounds the logins in flight: a flood of starts is refused, not stored', async () => {
    const later = new Date(Date.now() + 600_000).toISOString();
    await hub.store.sql.tx(async (tx) => {
      for (let i = 0; i < 10_000; i++) await tx.run("INSERT INTO sso_logins (state_hash, provider, binding_hash, nonce, code_verifier, created_at, expires_at) VALUES (?, 'acme-sso', 'b', 'n', 'v', 'x', ?)", [`flood-${i}`, later]);
    });
    const flooded = await hub.store.sso.loginsInFlight();
    const r = await fetch(`${hub.url}/auth/oidc/acme-sso/start`, { redirect: 'manual' });
    expect(r.status).toBe(503);
    expect(await r.text()).toContain('too many sign-ins in progress: try again in a few minutes');
    expect(await hub.store.sso.loginsInFlight()).toBeLessThanOrEqual(flooded); // the refused start stored nothing
    await hub.store.sql.run("DELETE FROM sso_logins WHERE state_hash LIKE 'flood-%'");
    expect((await fetch(`${hub.url}/auth/oidc/acme-sso/start`, { redirect: 'manual' })).status).toBe(303);
  });

  it('refuses a user whose groups map to nothing, and says why', async () => {
    const page = await freshPage();
    await signIn(page, 'bob', 'bob-pw');
    expect(await page.getByTestId('sso-refusal').textContent()).toBe('none of your groups is mapped to a tenant or role by ACME SSO (the provider sent groups sales; mapped: acme-admins, acme-users). Ask your administrator for access.');
    expect(await hub.store.users.findSso('acme-sso', 'sub-bob')).toBeUndefined();
    expect(audit().filter((e) => e.action === 'auth.sso.refuse').at(-1)).toMatchObject({ actor: 'sso:acme-sso', target: 'sub-bob', details: { provider: 'acme-sso', subject: 'sub-bob', groups: ['sales'] } });
  });

  it('refuses tampered ID tokens: foreign signature, wrong audience, expired, replayed nonce', async () => {
    const foreign = await signingKey(hub.op.key.kid ?? 'k1');
    const cases: Array<[string, NonNullable<typeof hub.op.tamper>, RegExp]> = [
      ['foreign signature', () => ({ key: foreign }), /JWT signature verification failed|signature/i],
      ['wrong audience', (c) => ({ claims: { ...c, aud: 'other-app' } }), /"aud"/],
      ['expired', (c) => ({ claims: { ...c, iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 } }), /"exp"|expired|timestamp/i],
      ['replayed nonce', (_c, seen) => ({ token: seen[0] }), /"nonce"/],
    ];
    try {
      for (const [what, tamper, message] of cases) {
        hub.op.tamper = tamper;
        const page = await freshPage();
        await signIn(page, 'alice', 'alice-pw');
        const error = (await page.getByTestId('sso-error').textContent()) ?? '';
        expect(error, what).toMatch(/^identity provider acme-sso: the login could not be verified: /);
        expect(error, what).toMatch(message);
        expect(await page.evaluate(async () => (await fetch('/api/v1/auth/session')).json()), what).toEqual({ loggedIn: false });
      }
    } finally {
      hub.op.tamper = undefined;
    }
  });

  it('tolerates 60 s of clock difference with the IdP: a token expired 30 s ago, or valid only from 30 s on, is accepted; 90 s is not', async () => {
    const at = (s: number) => Math.floor(Date.now() / 1000) + s;
    const cases: Array<[string, NonNullable<typeof hub.op.tamper>, boolean]> = [
      ['exp 30 s ago', (c) => ({ claims: { ...c, iat: at(-330), exp: at(-30) } }), true],
      ['nbf in 30 s', (c) => ({ claims: { ...c, nbf: at(30) } }), true],
      ['exp 90 s ago', (c) => ({ claims: { ...c, iat: at(-390), exp: at(-90) } }), false],
    ];
    try {
      for (const [what, tamper, accepted] of cases) {
        hub.op.tamper = tamper;
        const page = await freshPage();
        await signIn(page, 'alice', 'alice-pw');
        if (!accepted) expect(await page.getByTestId('sso-error').textContent(), what).toMatch(/^identity provider acme-sso: the login could not be verified: .*"exp"/);
        expect(await page.evaluate(async () => (await fetch('/api/v1/auth/session')).json()), what).toMatchObject({ loggedIn: accepted });
      }
    } finally {
      hub.op.tamper = undefined;
    }
  });

  it('keeps working when the IdP rotates its signing keys', async () => {
    const before = hub.op.key.kid;
    await hub.op.rotateKeys();
    expect(hub.op.key.kid).not.toBe(before);
    const page = await freshPage();
    await signIn(page, 'alice', 'alice-pw');
    await page.getByRole('navigation', { name: 'Main' }).waitFor({ timeout: 10_000 }).catch(async (err: unknown) => {
      throw new Error(`not on the dashboard: ${page.url()} ${await page.locator('body').textContent()}`, { cause: err });
    });
    expect(await page.locator('#who-name').textContent()).toBe('alice.acme-sso (tenant acme)');
  });

  it('asks a TOTP step-up when MFA is required and the IdP asserted none, enrolling a first authenticator', async () => {
    const page = await freshPage();
    await signIn(page, 'carol', 'carol-pw');
    expect(page.url()).toBe(`${hub.url}/auth/step-up`);
    expect(await page.evaluate(async () => (await fetch('/api/v1/auth/session')).json())).toEqual({ loggedIn: false });
    const secret = (await page.getByTestId('totp-secret').textContent()) ?? '';
    await page.getByLabel('Authenticator code').fill('000000');
    await page.getByRole('button', { name: 'Continue' }).click();
    expect(await page.getByTestId('step-up-error').textContent()).toBe('wrong code: try again');
    await page.getByLabel('Authenticator code').fill(code(secret));
    await page.getByRole('button', { name: 'Continue' }).click();
    expect(await page.getByTestId('recovery-codes').locator('li').count()).toBe(10);
    await page.getByTestId('to-dashboard').click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    expect(await page.locator('#who-name').textContent()).toBe('carol.acme-sso (tenant acme, tenant admin)');
    expect(audit().filter((e) => e.action === 'auth.sso.step-up').at(-1)).toMatchObject({ target: 'carol.acme-sso', details: { provider: 'acme-sso', subject: 'sub-carol', enrol: true } });
    // A tenant admin lists its tenant's users; a member may not.
    const users = await page.evaluate(async () => (await fetch('/api/v1/tenants/acme/users')).json());
    expect(users).toEqual({ users: [
      { name: 'alice.acme-sso', tenantRole: 'member', provider: 'acme-sso', totpEnabled: false, createdAt: expect.any(String) },
      { name: 'carol.acme-sso', tenantRole: 'admin', provider: 'acme-sso', totpEnabled: true, createdAt: expect.any(String) },
    ] });
    const member = await freshPage();
    await signIn(member, 'alice', 'alice-pw');
    await member.getByRole('navigation', { name: 'Main' }).waitFor();
    expect(await member.evaluate(async () => (await fetch('/api/v1/tenants/acme/users')).status)).toBe(403);
  });

  it('gives a session user a short-lived API token; both end when the mapping goes away', async () => {
    const page = await freshPage();
    await signIn(page, 'alice', 'alice-pw');
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    await page.goto(`${hub.url}/ui/#/tokens`);
    await page.getByRole('button', { name: 'Get a 1-hour token' }).click();
    const token = (await page.getByTestId('api-token').textContent()) ?? '';
    expect(token).toMatch(/^fapi_/);
    const listed = (await page.evaluate(async () => (await fetch('/api/v1/api-tokens')).json())) as { tokens: Array<{ label: string; user: string; expiresAt: string }> };
    const row = listed.tokens.find((t) => t.label === 'session:alice.acme-sso');
    expect(row?.user).toBe('alice.acme-sso');
    expect(Date.parse(row?.expiresAt ?? '') - Date.now()).toBeGreaterThan(3500_000);
    const bearer = { authorization: `Bearer ${token}` };
    expect(await (await fetch(`${hub.url}/api/v1/auth/me`, { headers: bearer })).json()).toMatchObject({ subject: 'alice.acme-sso', tenant: 'acme', via: 'api-token' });
    hub.commit({ 'identity-providers/acme-sso.yaml': acmeProvider(hub.op.issuer, hub.secretFile, ['    - { group: acme-admins, tenant: acme, role: tenant-admin }']) }, 'acme-users lose access');
    await waitFor(async () => (await fetch(`${hub.url}/api/v1/auth/me`, { headers: bearer })).status === 401, 15_000, 'token refused');
    expect(await page.evaluate(async () => (await fetch('/api/v1/auth/me')).status)).toBe(401);
    // And the next login is refused with the reason.
    const again = await freshPage();
    await signIn(again, 'alice', 'alice-pw');
    expect(await again.getByTestId('sso-refusal').textContent()).toMatch(/^none of your groups is mapped .* \(the provider sent groups acme-users; mapped: acme-admins\)/);
    hub.commit({ 'identity-providers/acme-sso.yaml': acmeProvider(hub.op.issuer, hub.secretFile) }, 'acme-users back');
  });

  it('logs out at the IdP too (RP-initiated logout) and lands on the login page', async () => {
    const page = await freshPage();
    await waitFor(async () => (await (await fetch(`${hub.url}/api/v1/auth/providers`)).json() as { providers: unknown[] }).providers.length === 2, 10_000, 'providers');
    await signIn(page, 'alice', 'alice-pw');
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL((u) => u.href.startsWith(`${hub.op.issuer}/session/end`));
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL(`${hub.url}/ui/`);
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    expect(audit().filter((e) => e.action === 'auth.logout').at(-1)).toMatchObject({ actor: 'user:alice.acme-sso', details: { provider: 'acme-sso' } });
  });

  it('explains an unreachable IdP at sign-in, while the local admin still logs in', async () => {
    await addUser(hub.store, 'root', 'admin');
    const local = await firstLogin(hub.url, 'root', 'one-time-password-1', 'root-new-password-1');
    await hub.op.stopIdp();
    const page = await freshPage();
    await page.goto(`${hub.url}/auth/oidc/acme-sso/start`);
    expect(await page.getByTestId('sso-error').textContent()).toMatch(new RegExp(`^identity provider acme-sso: discovery at ${hub.op.issuer.replace(/[.]/g, '\\.')} failed: `));
    const t = Date.now() + 30_000;
    const login = await post(`${hub.url}/api/v1/auth/login`, { user: 'root', password: 'root-new-password-1', code: code(local.secret, t) });
    expect(login.status).toBe(200);
  });
});

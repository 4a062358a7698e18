/**
 * The generated nginx configuration against real nginx (Debian's, with auth_request), a real app (the
 * ingress test app as a local process) and a small authorisation server that answers as the contract
 * says the hub does: who gets in, what the app sees (never the hub's credentials, never client-sent
 * X-Forwarded-* or X-Foundry-*), the cached decision, the login redirect, /.foundry/* to the hub, a
 * refused configuration that never replaces the running one, and a graceful reload that keeps an open
 * stream.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { nginxConfig, type IngressBody } from '../../agent/ingress/nginx-config.js';
import { NginxRunner, workDirFor } from '../../agent/ingress/nginx-runner.js';
import { describeIf, onPath } from '../support/requires.js';
import { freePort, get, open } from './http-client.js';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..', 'support', 'apps', 'ingress-app.mjs');
const HOST = 'live--acme-alice.apps.localhost';

describeIf(onPath('nginx'), 'nginx', 'apt-get install -y --no-install-recommends nginx')('ingress nginx configuration (real nginx, auth_request, cached decisions)', () => {
  let dir: string;
  let app: ChildProcess;
  let appPort: number;
  let authz: Server;
  let authzPort: number;
  let port: number;
  let runner: NginxRunner;
  const calls: Array<Record<string, string | undefined>> = [];
  let loginHeader: string | undefined;
  let revoked = false;

  const body = (over: Partial<IngressBody> = {}): IngressBody => ({
    service: 'ingress', listen: `127.0.0.1:${port}`, appsDomain: 'apps.localhost', hubPublicUrl: 'http://hub.example.test:8080', auth: 'hub', authCacheSeconds: 5, maxBodySize: '0',
    routes: [{ host: HOST, workspace: 'acme-alice', tenant: 'acme', app: 'live', upstream: `127.0.0.1:${appPort}` }],
    ...over,
  });
  const apply = (b: IngressBody) => runner.apply(nginxConfig(b, { dir, workDir: workDirFor(dir), hubUrl: `http://127.0.0.1:${authzPort}`, user: process.getuid?.() === 0 ? 'nobody nogroup' : undefined }));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fc-ingress-nginx-'));
    appPort = await freePort();
    app = spawn(process.execPath, [APP], { env: { ...process.env, PORT: String(appPort), APP_NAME: 'live' }, stdio: 'ignore' });
    authz = createServer((req, res) => {
      const h = req.headers;
      if (req.url!.startsWith('/ingress/callback')) {
        res.setHeader('set-cookie', 'foundry_app=good; HttpOnly; SameSite=Lax; Path=/');
        res.end(`hub callback for ${String(h['x-foundry-host'])} ${req.url}`);
        return;
      }
      calls.push({ url: req.url, host: h['x-foundry-host'] as string, uri: h['x-foundry-uri'] as string, method: h['x-foundry-method'] as string, cookie: h.cookie, authorization: h.authorization, tenant: h['x-foundry-tenant'] as string });
      const cookieOk = /(^|;\s*)foundry_app=good(;|$)/.test(h.cookie ?? '');
      if ((h.authorization === 'Bearer fapi_acme' || (h.authorization === 'Bearer fapi_rev' && !revoked)) || cookieOk) {
        res.writeHead(204, { 'x-foundry-tenant': 'acme', 'x-foundry-principal': cookieOk ? 'user:alice' : 'token:ci', 'cache-control': 'private, max-age=5' });
      } else if (h.authorization === 'Bearer fapi_globex') {
        res.writeHead(403);
      } else {
        res.writeHead(401, loginHeader === undefined ? {} : { 'x-foundry-login': loginHeader });
      }
      res.end();
    });
    await new Promise<void>((r) => authz.listen(0, '127.0.0.1', () => r()));
    authzPort = (authz.address() as { port: number }).port;
    port = await freePort();
    runner = new NginxRunner({ dir });
    expect((await apply(body())).status).toBe('started');
    // the app is up once it answers through the proxy with a key
    for (let i = 0; i < 100; i++) {
      if ((await get(port, HOST, '/', { authorization: 'Bearer fapi_acme' }).catch(() => undefined))?.status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 60_000);

  afterAll(async () => {
    await runner?.stop();
    app?.kill();
    authz?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(workDirFor(dir), { recursive: true, force: true });
  });

  it('lets an API key of the tenant in; the app sees the tenant from the hub, never the key, the hub cookies or client-sent X-Forwarded-*/X-Foundry-*', async () => {
    const r = await get(port, HOST, '/headers', {
      authorization: 'Bearer fapi_acme',
      cookie: 'foundry_app=stolen; theme=dark; foundry_session=dash; lang=de',
      'x-forwarded-for': '6.6.6.6',
      'x-forwarded-host': 'evil.example',
      'x-forwarded-proto': 'https',
      forwarded: 'for=6.6.6.6',
      'x-real-ip': '6.6.6.6',
      'x-foundry-tenant': 'globex',
      'x-foundry-principal': 'admin',
    });
    expect(r.status).toBe(200);
    const seen = JSON.parse(r.body) as Record<string, string>;
    expect(seen.authorization).toBeUndefined();
    expect(seen.cookie).toBe('theme=dark; lang=de');
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen['x-real-ip']).toBe('127.0.0.1');
    expect(seen['x-forwarded-host']).toBe(HOST);
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen.forwarded).toBeUndefined();
    expect(seen['x-foundry-tenant']).toBe('acme');
    expect(seen['x-foundry-principal']).toBe('token:ci');
    expect(seen.host).toBe(HOST);
    // the hub got the request's host, uri, method and the credentials as they came
    const call = calls.find((c) => c.uri === '/headers');
    expect(call).toMatchObject({ url: '/ingress/authz', host: HOST, method: 'GET', authorization: 'Bearer fapi_acme', cookie: 'foundry_app=stolen; theme=dark; foundry_session=dash; lang=de' });
    expect(call?.tenant).toBeUndefined();
  });

  it('keeps a non-hub Authorization header and an app session cookie, and strips only what is the hub\'s', async () => {
    const r = await get(port, HOST, '/headers', { cookie: 'a=1; foundry_app=good', authorization: 'Basic dXNlcjpwdw==' });
    expect(r.status).toBe(200);
    const seen = JSON.parse(r.body) as Record<string, string>;
    expect(seen.cookie).toBe('a=1');
    expect(seen.authorization).toBe('Basic dXNlcjpwdw==');
    expect(seen['x-foundry-principal']).toBe('user:alice');
  });

  it('answers another tenant 403, a script without credentials 401, a browser a redirect to the hub login', async () => {
    const forbidden = await get(port, HOST, '/', { authorization: 'Bearer fapi_globex' });
    expect([forbidden.status, forbidden.body]).toEqual([403, 'forbidden\n']);
    const script = await get(port, HOST, '/x?y=1');
    expect([script.status, script.body]).toEqual([401, 'unauthorized\n']);
    const browser = await get(port, HOST, '/x?y=1', { accept: 'text/html,application/xhtml+xml' });
    expect(browser.status).toBe(302);
    expect(browser.headers.location).toBe(`http://hub.example.test:8080/ingress/login?rd=http%3A%2F%2F${HOST}%2F`);
    // the hub may name the way back itself (url-encoded, with the path): nginx follows it
    loginHeader = `http://hub.example.test:8080/ingress/login?rd=${encodeURIComponent(`http://${HOST}:${port}/x?y=1`)}`;
    const named = await get(port, HOST, '/x?y=2', { accept: 'text/html', cookie: 'fresh=1' });
    expect([named.status, named.headers.location]).toEqual([302, loginHeader]);
    loginHeader = undefined;
  });

  it('caches the decision per host and credential, so repeated requests do not wait on the hub', async () => {
    const hubCalls = (): number => calls.filter((c) => c.authorization === 'Bearer fapi_acme' && c.uri?.startsWith('/headers?cached')).length;
    const before = hubCalls();
    for (let i = 0; i < 5; i++) {
      const r = await get(port, HOST, `/headers?cached-${i}`, { authorization: 'Bearer fapi_acme' });
      expect(r.status).toBe(200);
      // a cached decision still carries the hub's tenant to the app
      expect((JSON.parse(r.body) as Record<string, string>)['x-foundry-tenant']).toBe('acme');
    }
    // the first test's request may have filled the cache already: at most one call for these five
    expect(hubCalls() - before).toBeLessThanOrEqual(1);
    // a different credential is a different entry: decided by the hub, not served from the cache
    expect((await get(port, HOST, '/cached-x', { authorization: 'Bearer fapi_globex' })).status).toBe(403);
  });

  it('lets a revoked key work only until its cached decision expires (the documented TTL), then refuses it', async () => {
    expect((await apply(body({ authCacheSeconds: 1 }))).status).toBe('reloaded');
    expect((await get(port, HOST, '/', { authorization: 'Bearer fapi_rev' })).status).toBe(200);
    revoked = true;
    // still inside the TTL: the cached decision answers, the hub is not asked
    expect((await get(port, HOST, '/', { authorization: 'Bearer fapi_rev' })).status).toBe(200);
    let status = 200;
    for (let i = 0; i < 100 && status === 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await get(port, HOST, '/', { authorization: 'Bearer fapi_rev' })).status;
    }
    expect(status).toBe(401);
    expect((await apply(body())).status).toBe('reloaded');
  });

  it('routes /.foundry/* on an app host to the hub, with the host, never to the app', async () => {
    const r = await get(port, HOST, '/.foundry/callback?code=abc&rd=%2Fx');
    expect(r.status).toBe(200);
    expect(r.body).toBe(`hub callback for ${HOST} /ingress/callback?code=abc&rd=%2Fx`);
    expect(r.headers['set-cookie']).toEqual(['foundry_app=good; HttpOnly; SameSite=Lax; Path=/']);
  });

  it('answers unknown hosts and host tricks with a plain 404 that names nothing', async () => {
    for (const host of ['nope--acme-alice.apps.localhost', `${HOST}.evil.example`, 'apps.localhost', '127.0.0.1', `x.${HOST}`]) {
      const r = await get(port, host, '/', { authorization: 'Bearer fapi_acme' });
      expect([host, r.status, r.body]).toEqual([host, 404, 'not found\n']);
      expect(r.headers.server).toBe('nginx');
    }
  });

  it('streams WebSocket frames both ways through the proxy', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { host: HOST, authorization: 'Bearer fapi_acme' } });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const echo = new Promise<string>((r) => ws.once('message', (d: Buffer) => r(d.toString())));
    ws.send('hello through nginx');
    expect(await echo).toBe('hello through nginx');
    ws.close();
  });

  it('never lets a configuration nginx refuses replace the running one', async () => {
    const bad = await apply(body({ tls: { certificateFile: '/nonexistent/cert.pem', keyFile: '/nonexistent/key.pem' } }));
    expect(bad.status).toBe('refused');
    expect(bad.status === 'refused' ? bad.message : '').toMatch(/nginx -t refused the generated configuration: .*cert\.pem/);
    expect((await get(port, HOST, '/', { authorization: 'Bearer fapi_acme' })).body).toBe('app live\n');
    expect(readdirSync(dir).filter((f) => f.startsWith('nginx.conf'))).toEqual(['nginx.conf']);
  });

  it('reloads gracefully: a stream open before the reload finishes after it, and a new route works', async () => {
    const stream = await open(port, HOST, '/stream', { authorization: 'Bearer fapi_acme' });
    expect(stream.status).toBe(200);
    expect(await stream.next()).toBe('first\n');
    const extra = { host: 'second--acme-alice.apps.localhost', workspace: 'acme-alice', tenant: 'acme', app: 'second', upstream: `127.0.0.1:${appPort}` };
    expect((await apply(body({ routes: [...body().routes, extra] }))).status).toBe('reloaded');
    let second = await get(port, extra.host, '/', { authorization: 'Bearer fapi_acme' });
    for (let i = 0; i < 50 && second.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      second = await get(port, extra.host, '/', { authorization: 'Bearer fapi_acme' });
    }
    expect(second.body).toBe('app live\n');
    expect((await get(port, HOST, '/release', { authorization: 'Bearer fapi_acme' })).body).toBe('released 1\n');
    expect(await stream.rest()).toBe('last\n');
    expect((await apply(body({ routes: [...body().routes, extra] }))).status).toBe('unchanged');
  });
});

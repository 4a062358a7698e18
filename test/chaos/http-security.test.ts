/**
 * Security and HTTP fuzzing of the hub, over every route the app registers (enumerated at test time by
 * wrapping Fastify's factory with an onRoute hook, so routes that land later are covered without edits):
 * each route with no credential, with a node credential and with another tenant's principal gets
 * 401/403 (or a 4xx that carries no data); malformed, huge and wrongly typed bodies get a 4xx with a
 * clear error, never a 5xx; names with path traversal are refused; a join token works once.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import type * as FastifyModule from 'fastify';
import type { FastifyInstance } from 'fastify';
import { startTestHub, type TestHub } from '../hub/support.js';
import { happened, tried } from './record.js';

const routes = vi.hoisted(() => [] as Array<{ method: string; url: string }>);
vi.mock('fastify', async (importOriginal) => {
  const mod = await importOriginal<typeof FastifyModule>();
  const factory = ((opts: unknown) => {
    const app = (mod.default as unknown as (o: unknown) => FastifyInstance)(opts);
    app.addHook('onRoute', (r) => {
      for (const m of [r.method].flat()) if (m !== 'HEAD' && m !== 'OPTIONS') routes.push({ method: m, url: r.url });
    });
    return app;
  }) as unknown as typeof mod.default;
  return { ...mod, default: factory, fastify: factory };
});

/** Routes anyone may call without a credential, and why. */
const OPEN: Array<[RegExp, string]> = [
  [/^\/(healthz|readyz)$/, 'health probes'],
  [/^\/install\.sh$/, 'static installer (nothing of the request goes into it)'],
  [/^\/agent\//, 'agent bundle and its checksum (public artefacts)'],
  [/^\/(ui(\/.*)?)?$/, 'dashboard shell and static assets (the data behind it needs a session)'],
  [/^\/api\/v1\/auth\/(logout|session)$/, 'logout, and "am I logged in" (answers loggedIn: false without a session)'],
];
/** Routes that authenticate with something in the request itself (join token, password, webhook secret): 4xx without it. */
const SELF_AUTH = [/^\/api\/v1\/enroll$/, /^\/api\/v1\/auth\/(login|setup)$/, /webhook/];
const TRAVERSAL = ['../../etc/passwd', '..%2F..%2Fetc%2Fpasswd', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '%252e%252e%252fetc', '/etc/passwd', '%2Fetc%2Fpasswd', '..\\..\\windows', 'a%00b'];
const PASSWD = readFileSync('/etc/passwd', 'utf8').split('\n')[0]!;

let hub: TestHub;
let admin: string;
let nodeCred: string;
const TENANT_TOKEN = 'fapi_chaos_globex_principal';

beforeAll(async () => {
  hub = await startTestHub({ repo: true, webhookSecret: 'chaos-webhook-secret' });
  admin = (await hub.store.createAdminToken('chaos'));
  nodeCred = (await hub.store.issueNodeCredential('gpu-01'));
  // Another tenant's principal, through the app's own authenticator chain (however tenant tokens are issued).
  hub.app.authenticators.unshift((req) => (req.headers.authorization === `Bearer ${TENANT_TOKEN}` ? { role: 'tenant', subject: 'globex-bot', tenant: 'globex', via: 'api-token' } : undefined));
});
afterAll(async () => hub?.close());

const isOpen = (url: string): boolean => OPEN.some(([re]) => re.test(url));
const fill = (url: string, value?: string): string => url.replace(/:([A-Za-z]+)/g, (_m, p: string) => value ?? (p === 'tenant' ? 'acme' : p === 'name' ? 'gpu-01' : 'x1')).replace(/\*$/, value ?? 'info/refs');

async function call(method: string, path: string, init: { auth?: string; body?: string | Buffer; type?: string } = {}): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  if (init.auth !== undefined) headers.authorization = `Bearer ${init.auth}`;
  if (init.type !== undefined) headers['content-type'] = init.type;
  const ctl = new AbortController();
  const res = await fetch(`${hub.url}${path}`, { method, headers, body: method === 'GET' ? undefined : init.body, redirect: 'manual', signal: ctl.signal });
  // Event streams never end: read what the first second brings.
  const timer = setTimeout(() => ctl.abort(), 1000);
  let text = '';
  try {
    text = await res.text();
  } catch {
    /* aborted stream */
  } finally {
    clearTimeout(timer);
  }
  return { status: res.status, text };
}

describe('hub api security', () => {
  it('refuses every non-public route without a credential, with a node credential and to another tenant', async (ctx) => {
    tried(ctx, 'security: every API route with no credential, a node credential, another tenant\'s credential', 'every route the running app registered (enumerated through an onRoute hook), each called with no credential, with a node credential and with a tenant principal of globex while the path names acme; the agents\' WebSocket with an admin token and a tenant token');
    const unique = [...new Map(routes.map((r) => [`${r.method} ${r.url}`, r])).values()];
    const protectedRoutes = unique.filter((r) => !isOpen(r.url));
    const bad: string[] = [];
    for (const r of protectedRoutes) {
      const path = fill(r.url);
      const selfAuth = SELF_AUTH.some((re) => re.test(r.url));
      for (const [who, auth] of [['none', undefined], ['node', nodeCred], ['other-tenant', TENANT_TOKEN]] as const) {
        const res = await call(r.method, path, { auth, body: r.method === 'GET' ? undefined : '{}', type: r.method === 'GET' ? undefined : 'application/json' });
        const leaks = res.text.includes('acme') || res.text.includes(nodeCred) || res.text.includes(admin) || res.text.includes('gpu-01');
        // Nodes read the hosted repo (that is how agents fetch it): a read may succeed, nothing else.
        const nodeRead = who === 'node' && r.url.startsWith('/git/') && ((r.method === 'GET' && res.status === 200) || (res.status >= 400 && res.status < 500));
        const refused = res.status === 401 || res.status === 403;
        const fourxx = res.status >= 400 && res.status < 500;
        const ok = nodeRead || refused || ((selfAuth || who === 'other-tenant') && fourxx) || (who === 'other-tenant' && res.status === 200 && !leaks);
        if (!ok || (!nodeRead && res.status >= 200 && res.status < 300 && leaks)) bad.push(`${r.method} ${path} as ${who}: ${res.status} ${res.text.slice(0, 120)}`);
      }
    }
    for (const token of [admin, TENANT_TOKEN]) {
      const status = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`${hub.url.replace('http', 'ws')}/api/v1/agent/ws`, { headers: { authorization: `Bearer ${token}` } });
        ws.on('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => { ws.close(); resolve(101); });
        ws.on('error', () => resolve(-1));
      });
      if (status !== 401) bad.push(`agent websocket with a ${token === admin ? 'admin' : 'tenant'} token: ${status}`);
    }
    happened(ctx, `${unique.length} routes registered, ${protectedRoutes.length} protected, ${protectedRoutes.length * 3 + 2} calls; open by design: ${unique.filter((r) => isOpen(r.url)).map((r) => `${r.method} ${r.url}`).join(', ')}`);
    happened(ctx, bad.length === 0 ? 'every protected call answered 401/403 (other tenant: a 4xx or its own empty data)' : `${bad.length} calls not refused: ${bad.slice(0, 6).map((b) => b.slice(0, 160)).join(' / ')}`);
    expect(bad).toEqual([]);
    expect(protectedRoutes.length).toBeGreaterThan(5);
  });

  it('refuses path traversal in every name parameter and in the hosted repo path', async (ctx) => {
    tried(ctx, 'security: path traversal in names', `every route with a name parameter (and the hosted repo's wildcard) called as admin with ${TRAVERSAL.join(', ')}`);
    const withParams = [...new Map(routes.filter((r) => /:|\*$/.test(r.url) && !isOpen(r.url)).map((r) => [`${r.method} ${r.url}`, r])).values()];
    const bad: string[] = [];
    let calls = 0;
    for (const r of withParams) {
      for (const value of TRAVERSAL) {
        calls += 1;
        const res = await call(r.method, fill(r.url, value), { auth: admin, body: r.method === 'GET' ? undefined : '{}', type: r.method === 'GET' ? undefined : 'application/json' });
        if (res.status < 400 || res.status >= 500 || res.text.includes(PASSWD)) bad.push(`${r.method} ${fill(r.url, value)}: ${res.status} ${res.text.slice(0, 100)}`);
      }
    }
    for (const raw of ['/infra.git/../../../../etc/passwd', '/infra.git/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/ui/../../../../etc/passwd', '/ui/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/agent/..%2F..%2F..%2Fetc%2Fpasswd']) {
      calls += 1;
      const res = await call('GET', raw, { auth: admin });
      if (res.text.includes(PASSWD) || res.status >= 500) bad.push(`GET ${raw}: ${res.status}`);
    }
    happened(ctx, `${withParams.length} parameterised routes, ${calls} calls: ${bad.length === 0 ? 'all refused with a 4xx, no file content' : `${bad.length} not refused: ${bad.slice(0, 8).map((b) => b.slice(0, 110)).join(' / ')}`}`);
    expect(bad).toEqual([]);
  });

  it('accepts a single-use join token once, and refuses its replay', async (ctx) => {
    tried(ctx, 'security: join-token replay', 'an admin creates a single-use join token; one node enrolls with it, then the same token is presented again (another node name, then the same one)');
    const created = await fetch(`${hub.url}/api/v1/join-tokens`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: '{}' });
    expect(created.status).toBe(201);
    const { token } = (await created.json()) as { token: string };
    const enroll = (node: string): Promise<{ status: number; text: string }> =>
      call('POST', '/api/v1/enroll', { type: 'application/json', body: JSON.stringify({ token, node, hubUrl: hub.url, inventory: { hostname: node, cpu: { cores: 2 }, memoryBytes: 1 << 30, disks: [], gpus: [] } }) });
    const first = await enroll('chaos-n1');
    const replay = await enroll('chaos-n2');
    const again = await enroll('chaos-n1');
    happened(ctx, `first use ${first.status}; replay as another node ${replay.status} ${replay.text.slice(0, 100)}; replay as the same node ${again.status}`);
    expect(first.status).toBe(201);
    expect(replay.status).toBe(403);
    expect(JSON.parse(replay.text)).toMatchObject({ code: 'JOIN_TOKEN' });
    expect(again.status).toBeGreaterThanOrEqual(400);
    expect(again.status).toBeLessThan(500);
    expect((await hub.store.nodes()).map((n) => n.name)).not.toContain('chaos-n2');
  });

  it('answers malformed, huge and wrongly typed bodies with a 4xx and a clear error, never a 5xx', async (ctx) => {
    tried(ctx, 'protocol fuzzing: HTTP endpoints', 'every POST/PUT/PATCH/DELETE route, as admin and without a credential: broken JSON, NUL bytes, 2 MiB and 12 MiB bodies, text/plain, application/xml, multipart garbage, a wrong charset, and (except the hosted repo: broken JSON, XML and the 12 MiB body only) 16 random JSON values each (fast-check, seed 7)');
    const mutating = [...new Map(routes.filter((r) => r.method !== 'GET').map((r) => [`${r.method} ${r.url}`, r])).values()];
    const bodies: Array<{ body: string | Buffer; type: string }> = [
      { body: '{"a":', type: 'application/json' },
      { body: '{"a":1}', type: 'text/plain' },
      { body: '<a/>', type: 'application/xml' },
      { body: '--x\r\ngarbage', type: 'multipart/form-data; boundary=x' },
      { body: '{}', type: 'application/json; charset=utf-16' },
      { body: '\u0000\u0001\u0002', type: 'application/json' },
      { body: `{"pad":"${'x'.repeat(2 * 1024 * 1024)}"}`, type: 'application/json' },
      { body: Buffer.alloc(12 * 1024 * 1024, 0x7b), type: 'application/octet-stream' },
      ...fc.sample(fc.jsonValue(), { numRuns: 16, seed: 7 }).map((v) => ({ body: JSON.stringify(v) ?? 'null', type: 'application/json' })),
    ];
    const fivexx: string[] = [];
    const unclear: string[] = [];
    const statuses = new Map<number, number>();
    const resets: string[] = [];
    const elapsed = new Map<string, number>();
    for (const r of mutating) {
      for (const auth of [admin, undefined]) {
        // The hosted repo spawns git http-backend per request (and a malformed one can take seconds): three bodies only.
        for (const b of r.url.startsWith('/git/') ? [bodies[0]!, bodies[2]!, bodies[7]!] : bodies) {
          const t0 = Date.now();
          const res = await call(r.method, fill(r.url), { auth, body: b.body, type: b.type }).catch((err: Error & { cause?: { code?: string } }) => {
            // Past the body limit the hub answers 413 and closes while the client still uploads: a reset, not a crash.
            if (b.body.length > 1024 * 1024 && err.cause?.code === 'ECONNRESET') return { status: 413, text: '{"message":"reset while uploading an oversized body"}' };
            resets.push(`${r.method} ${r.url} ${b.type} ${b.body.length} B as ${auth === undefined ? 'none' : 'admin'}: ${err.cause?.code ?? err.message}`);
            return { status: 0, text: '' };
          });
          const k = `${r.method} ${r.url} ${b.type.split(';')[0]}${b.body.length > 1e6 ? ' (huge)' : ''}`;
          elapsed.set(k, (elapsed.get(k) ?? 0) + Date.now() - t0);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status >= 500) fivexx.push(`${r.method} ${r.url} ${b.type} ${b.body.length}B: ${res.status} ${res.text.slice(0, 160)}`);
          // A refused JSON API body must say why (git's own protocol answers are not JSON).
          else if (res.status === 0) continue;
          else if (res.status >= 400 && r.url.startsWith('/api/') && !/"message"\s*:\s*"[^"]{5,}/.test(res.text)) unclear.push(`${r.method} ${r.url} ${b.type}: ${res.status} ${res.text.slice(0, 80)}`);
        }
      }
    }
    const slowest = [...elapsed].sort((a, b) => b[1] - a[1])[0];
    if (slowest !== undefined) happened(ctx, `slowest to answer: ${slowest[0].trim()} (${(slowest[1] / 1000).toFixed(1)} s over its calls, reported, not asserted)`);
    const health = await call('GET', '/healthz');
    happened(ctx, `${mutating.length} routes × ${bodies.length} bodies × 2: statuses ${[...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(', ')}; /healthz afterwards ${health.status}`);
    if (fivexx.length > 0) happened(ctx, `5xx: ${fivexx.slice(0, 5).join(' | ')}`);
    if (resets.length > 0) happened(ctx, `connection reset instead of an answer: ${resets.length} (${resets.slice(0, 3).join(' | ')})`);
    if (unclear.length > 0) happened(ctx, `4xx without a message: ${unclear.slice(0, 5).join(' | ')}`);
    expect(fivexx).toEqual([]);
    expect(unclear).toEqual([]);
    expect(resets).toEqual([]);
    expect(health.status).toBe(200);
  });
});

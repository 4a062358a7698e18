/** Live events (SSE) and the static pages over HTTP: who may listen, which topics a change announces, headers of the pages. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { startTestHub, waitFor, type TestHub } from '../hub/support.js';
import { addUser, firstLogin, type Session } from './support.js';

/** Opens an SSE stream with `headers`; collects events until closed. */
function listen(url: string, headers: Record<string, string>): Promise<{ status: number; events: Array<{ event: string; data: unknown }>; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      const events: Array<{ event: string; data: unknown }> = [];
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) });
        }
      });
      resolve({ status: res.statusCode ?? 0, events, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

describe('live events and pages', () => {
  let hub: TestHub;
  let admin: Session;

  beforeAll(async () => {
    hub = await startTestHub({ dashboard: { pollMs: 100 } });
    await addUser(hub.store, 'ada', 'admin');
    admin = await firstLogin(hub.url, 'ada', 'one-time-password-1', 'a-long-new-password');
  });
  afterAll(async () => hub.close());

  it('streams change events naming the topics, to logged-in callers only', async () => {
    const anon = await listen(`${hub.url}/api/v1/events`, {});
    expect(anon.status).toBe(401);
    anon.close();
    const s = await listen(`${hub.url}/api/v1/events`, { cookie: admin.cookie });
    expect(s.status).toBe(200);
    await waitFor(() => s.events.length > 0, 5000, 'hello');
    expect(s.events[0]).toEqual({ event: 'hello', data: { topics: ['nodes', 'telemetry', 'audit', 'workspaces', 'billing', 'refused', 'enrollment'] } });
    // The admin's login above may still be announced first (polls run once a second; a loaded machine
    // delays them): gather the topics of every change until the node shows up.
    const changes = () => s.events.filter((e) => e.event === 'change').map((e) => (e.data as { topics: string[] }).topics);
    await hub.store.issueNodeCredential('gpu-09');
    await waitFor(() => changes().some((t) => t.includes('nodes')), 5000, 'a nodes change');
    expect([...new Set(changes().flat())].sort()).toEqual(['audit', 'nodes']);
    // a refused usage record: the admins' Billing page and overview refetch
    const before = changes().length;
    await hub.store.ingest([{ node: 'gpu-09', seq: 1, kind: 'usage-refused', payload: { workspace: 'w' }, refusal: { reason: 'unknown-workspace', message: 'never declared' } }]);
    const refused = await waitFor(() => changes()[before], 5000, 'a second change');
    expect(refused).toEqual(['refused']);
    s.close();
  });

  it('serves the pages with a strict content security policy, uPlot from the package, and 404 for unknown files', async () => {
    const root = await fetch(`${hub.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/ui/');
    const page = await fetch(`${hub.url}/ui/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await page.text()).toContain('<script type="module" src="/ui/app.js"></script>');
    const etag = page.headers.get('etag') ?? '';
    expect((await fetch(`${hub.url}/ui/`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    const uplot = await fetch(`${hub.url}/ui/vendor/uPlot.esm.js`);
    expect(uplot.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await uplot.text()).toContain('export { uPlot as default }');
    expect((await fetch(`${hub.url}/ui/../package.json`)).status).toBe(404);
    expect((await fetch(`${hub.url}/ui/nope.js`)).status).toBe(404);
  });

  it('answers /auth/session with 200 whether or not logged in', async () => {
    expect(await (await fetch(`${hub.url}/api/v1/auth/session`)).json()).toEqual({ loggedIn: false });
    expect(await (await fetch(`${hub.url}/api/v1/auth/session`, { headers: { cookie: admin.cookie } })).json()).toEqual({ loggedIn: true, subject: 'ada', role: 'admin', tenant: null, tenantRole: null, via: 'session', sso: null, csrfToken: admin.csrf });
  });
});

/**
 * The console tunnel with a real KVM guest, over HTTP and WebSocket: a tenant user's ticket opens the
 * guest's VNC stream (the RFB greeting of QEMU's VNC server arrives through the agent's second outbound
 * WebSocket); a replayed ticket, a ticket under another session, another tenant's user and a caller
 * without a session are refused; a node cannot answer another node's tunnel; open and close are audited.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { describeIf } from '../support/requires.js';
import { libvirtAvailable, LIBVIRT_HOW } from '../libvirt/helpers.js';
import { post } from '../dashboard/support.js';
import { startDeskFleet, type DeskFleet } from './desk-fleet.js';
import { AGENT_CONSOLE_PATH, TUNNEL_HEADER } from '../../common/protocol/codec.js';

let f: DeskFleet;

interface Ticket { ticket: string; path: string; protocolPrefix: string; node: string; expiresAt: string }

async function ticket(session: { cookie: string; csrf: string }, workspace = f.workspace): Promise<{ status: number; body: Record<string, unknown> }> {
  return post(`${f.url}/api/v1/workspaces/${workspace}/desktop/ticket`, {}, { cookie: session.cookie, 'x-csrf-token': session.csrf });
}

/** Opens the console WebSocket; resolves with the socket and the first bytes, or the refusal's HTTP status. */
function openConsole(t: Ticket, cookie: string): Promise<{ ws: WebSocket; first: Buffer } | { status: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${f.url.replace('http', 'ws')}${t.path}`, ['binary', `${t.protocolPrefix}${t.ticket}`], { headers: { cookie } });
    ws.once('message', (d: Buffer) => resolve({ ws, first: d }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}

describeIf(libvirtAvailable, 'libvirt', LIBVIRT_HOW)('console tunnel to a real KVM guest', () => {
  beforeAll(async () => {
    f = await startDeskFleet();
  }, 120_000);
  afterAll(async () => {
    await f?.close();
  });

  it('streams the guest VNC server to the workspace tenant\'s user through the agent\'s outbound tunnel', async () => {
    const r = await ticket(f.tom);
    expect(r.status).toBe(200);
    const t = r.body as unknown as Ticket;
    expect(t).toMatchObject({ path: '/api/v1/desktop/ws', protocolPrefix: 'foundry-ticket.', node: f.node });
    expect(Date.parse(t.expiresAt) - Date.now()).toBeLessThanOrEqual(30_000);
    const c = await openConsole(t, f.tom.cookie);
    if (!('ws' in c)) throw new Error(`refused: ${c.status}`);
    // QEMU's VNC server speaks first: the RFB protocol version.
    expect(c.first.toString('latin1')).toBe('RFB 003.008\n');
    expect(c.ws.protocol).toBe('binary');
    // Answer the version; the server offers its security types (1 = None, as libvirt configures it here).
    const types = new Promise<Buffer>((resolve) => c.ws.once('message', (d: Buffer) => resolve(d)));
    c.ws.send(Buffer.from('RFB 003.008\n', 'latin1'));
    expect([...(await types)]).toEqual([1, 1]);
    expect(f.tunnels.size).toBe(1);
    const closed = new Promise<void>((resolve) => c.ws.once('close', () => resolve()));
    c.ws.close();
    await closed;
    // Closing the browser's side closes the agent's.
    await expect.poll(() => f.tunnels.size).toBe(0);
    await expect.poll(() => f.store.auditLog().filter((a) => a.target === f.workspace && a.action.startsWith('desktop.')).map((a) => `${a.actor} ${a.action}`)).toEqual(['tenant:tom desktop.open', 'tenant:tom desktop.close']);
  });

  it('refuses a replayed ticket, a ticket under another session and a console without a session', async () => {
    const t = (await ticket(f.tom)).body as unknown as Ticket;
    const first = await openConsole(t, f.tom.cookie);
    expect('ws' in first).toBe(true);
    if ('ws' in first) first.ws.close();
    expect(await openConsole(t, f.tom.cookie)).toEqual({ status: 403 });
    const t2 = (await ticket(f.tom)).body as unknown as Ticket;
    expect(await openConsole(t2, f.eve.cookie)).toEqual({ status: 403 });
    // burned by the wrong session: not usable by the right one either
    expect(await openConsole(t2, f.tom.cookie)).toEqual({ status: 403 });
    const t3 = (await ticket(f.tom)).body as unknown as Ticket;
    expect(await openConsole(t3, '')).toEqual({ status: 403 });
    expect(await openConsole({ ...t3, ticket: '' }, f.tom.cookie)).toEqual({ status: 401 });
  });

  it('hides the workspace from another tenant\'s user and refuses callers without a session', async () => {
    expect(await ticket(f.eve)).toMatchObject({ status: 404, body: { code: 'NOT_FOUND', message: `no workspace ${f.workspace}` } });
    // a CSRF-less POST with the cookie is refused before anything else
    expect((await post(`${f.url}/api/v1/workspaces/${f.workspace}/desktop/ticket`, {}, { cookie: f.tom.cookie })).status).toBe(403);
    expect((await post(`${f.url}/api/v1/workspaces/${f.workspace}/desktop/ticket`, {})).status).toBe(401);
    const admin = f.store.createAdminToken('desk-test');
    // an API token has no session to bind the ticket to
    expect(await post(`${f.url}/api/v1/workspaces/${f.workspace}/desktop/ticket`, {}, { authorization: `Bearer ${admin}` })).toMatchObject({ status: 403, body: { code: 'AUTH_FORBIDDEN' } });
  });

  it('lets no agent dial a tunnel without its credential or for another node', async () => {
    const status = (headers: Record<string, string>): Promise<number> =>
      new Promise((resolve) => {
        const ws = new WebSocket(`${f.url.replace('http', 'ws')}${AGENT_CONSOLE_PATH}`, { headers });
        ws.once('unexpected-response', (_q, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.once('open', () => resolve(101));
        ws.once('error', () => undefined);
      });
    expect(await status({ [TUNNEL_HEADER]: 'AAAAAAAAAAAAAAAAAAAAAAAA' })).toBe(401);
    const other = f.store.issueNodeCredential('some-other-node');
    expect(await status({ authorization: `Bearer ${other}`, [TUNNEL_HEADER]: 'AAAAAAAAAAAAAAAAAAAAAAAA' })).toBe(404);
  });
});

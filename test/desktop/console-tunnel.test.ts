/**
 * The console tunnel with a real KVM guest, over HTTP and WebSocket: a tenant user's ticket opens the
 * guest's VNC stream (the RFB greeting of QEMU's VNC server arrives through the agent's second outbound
 * WebSocket); a replayed ticket, a ticket under another session, another tenant's user and a caller
 * without a session are refused; a node cannot answer another node's tunnel; open and close are audited.
 * "Open in Guacamole": the link's encrypted JSON decrypts with openssl and its connection's one-time relay
 * port reaches the guest's VNC server (as guacd would), once.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { describeIf } from '../support/requires.js';
import { libvirtAvailable, LIBVIRT_HOW } from '../libvirt/helpers.js';
import { post } from '../dashboard/support.js';
import { startDeskFleet, type DeskFleet } from './desk-fleet.js';
import { pino } from 'pino';
import { startNodeAgent, type NodeAgent } from '../../agent/node-agent.js';
import { resolveConfig } from '../../agent/config/load-config.js';
import { AGENT_CONSOLE_PATH, TUNNEL_HEADER } from '../../common/protocol/codec.js';

let f: DeskFleet;
const GUAC_KEY = '6a1f0c2d9e8b7a6f5e4d3c2b1a098877';
const keyDir = mkdtempSync(join(tmpdir(), 'ft-guac-key-'));
const keyFile = join(keyDir, 'guacamole.key');

/** Reads from a TCP connection until `n` bytes came (or it closed). */
function readTcp(port: number, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    let got = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= n) {
        s.destroy();
        resolve(got);
      }
    });
    s.once('close', () => resolve(got));
    s.once('error', reject);
  });
}

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
    writeFileSync(keyFile, `${GUAC_KEY}\n`, { mode: 0o600 });
    f = await startDeskFleet({ desktop: { guacamole: { url: 'https://desktops.example.test/guacamole/', keyFile } } });
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
    await expect.poll(async () => (await f.store.auditLog()).filter((a) => a.target === f.workspace && a.action.startsWith('desktop.')).map((a) => `${a.actor} ${a.action}`)).toEqual(['tenant:tom desktop.open', 'tenant:tom desktop.close']);
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
    const admin = (await f.store.createAdminToken('desk-test'));
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
    const other = (await f.store.issueNodeCredential('some-other-node'));
    expect(await status({ authorization: `Bearer ${other}`, [TUNNEL_HEADER]: 'AAAAAAAAAAAAAAAAAAAAAAAA' })).toBe(404);
  });

  it('signs the user in to Guacamole with encrypted json whose connection reaches the guest through a one-time relay', async () => {
    const r = await post(`${f.url}/api/v1/workspaces/${f.workspace}/desktop/guacamole`, {}, { cookie: f.tom.cookie, 'x-csrf-token': f.tom.csrf });
    expect(r.status).toBe(200);
    const url = String(r.body.url);
    // the data rides in the fragment, which browsers never send to a server
    expect(url.startsWith('https://desktops.example.test/guacamole/#/?data=')).toBe(true);
    const data = decodeURIComponent(url.split('#/?data=')[1] ?? '');
    const dec = spawnSync('openssl', ['enc', '-d', '-aes-128-cbc', '-K', GUAC_KEY, '-iv', '0'.repeat(32), '-nosalt', '-a', '-A'], { input: data });
    expect(dec.status).toBe(0);
    const body = dec.stdout.subarray(32);
    const mac = spawnSync('openssl', ['dgst', '-sha256', '-mac', 'HMAC', '-macopt', `hexkey:${GUAC_KEY}`, '-binary'], { input: body });
    expect(dec.stdout.subarray(0, 32)).toEqual(mac.stdout);
    const json = JSON.parse(body.toString()) as { username: string; expires: number; connections: Record<string, { protocol: string; parameters: { hostname: string; port: string } }> };
    expect(json.username).toBe('tom');
    expect(json.expires - Date.now()).toBeGreaterThan(50_000);
    expect(json.expires - Date.now()).toBeLessThanOrEqual(60_000);
    const conn = json.connections[`${f.workspace} desktop`];
    expect(conn).toMatchObject({ protocol: 'vnc', parameters: { hostname: '127.0.0.1' } });
    // guacd's side: the relay port speaks the guest's VNC (through the agent's tunnel), and only once
    const port = Number(conn?.parameters.port);
    expect((await readTcp(port, 12)).toString('latin1')).toBe('RFB 003.008\n');
    await expect(readTcp(port, 12)).rejects.toThrow(/ECONNREFUSED/);
    await expect.poll(async () => (await f.store.auditLog()).filter((a) => a.target === f.workspace && a.action.startsWith('desktop.')).length).toBeGreaterThanOrEqual(4);
    // another tenant's user gets nothing
    expect((await post(`${f.url}/api/v1/workspaces/${f.workspace}/desktop/guacamole`, {}, { cookie: f.eve.cookie, 'x-csrf-token': f.eve.csrf })).status).toBe(404);
  });

  it('names the key file, never its content, when the guacamole key is unusable', async () => {
    writeFileSync(keyFile, 'correct horse battery staple\n');
    const r = await post(`${f.url}/api/v1/workspaces/${f.workspace}/desktop/guacamole`, {}, { cookie: f.tom.cookie, 'x-csrf-token': f.tom.csrf });
    expect(r).toMatchObject({ status: 503, body: { code: 'GUACAMOLE_KEY', message: `${keyFile}: the guacamole key must be 32 hexadecimal digits (128 bits)` } });
    expect(JSON.stringify(r.body)).not.toContain('horse');
    writeFileSync(keyFile, GUAC_KEY);
  });

  it('works through the whole agent: startNodeAgent (as foundry agent run) answers console-open with its libvirt section', async () => {
    await f.link.close();
    const credentialFile = join(keyDir, 'node-credential');
    writeFileSync(credentialFile, `${(await f.store.issueNodeCredential(f.node))}\n`, { mode: 0o600 });
    // The repo is unreachable on purpose: the agent plans nothing, so it never touches the test's guest.
    const config = resolveConfig({
      node: f.node,
      repo: { url: join(f.dir, 'no-such-repo'), branch: 'main' },
      cacheDir: join(f.dir, 'agent-cache'),
      stateDir: join(f.dir, 'agent-state'),
      podman: { socketPath: join(f.dir, 'no-podman.sock') },
      libvirt: { uri: 'qemu:///system', diskDir: join(f.dir, 'disks'), imageDir: join(f.dir, 'images') },
      hub: { url: f.url, credentialFile },
    }, join(f.dir, 'agent.yaml'));
    let agent: NodeAgent | undefined;
    try {
      agent = await startNodeAgent(config, pino({ level: 'silent' }), { nvidiaSmi: join(f.dir, 'no-nvidia-smi') });
      await expect.poll(() => f.app.hub.gateway.connectedNodes(), { timeout: 15_000 }).toContain(f.node);
      const t = (await ticket(f.tom)).body as unknown as Ticket;
      const c = await openConsole(t, f.tom.cookie);
      if (!('ws' in c)) throw new Error(`refused: ${c.status}`);
      expect(c.first.toString('latin1')).toBe('RFB 003.008\n');
      c.ws.close();
    } finally {
      await agent?.stop();
    }
  }, 60_000);
});

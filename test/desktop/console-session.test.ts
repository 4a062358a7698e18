/**
 * The console broker's browser side without a guest: a console ticket is redeemed only with the live
 * dashboard session it was issued for (looked up in the store), before the hub asks any agent to dial back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashSecret } from '../../hub/auth/secrets.js';
import { SESSION_COOKIE, openSession } from '../../hub/auth/sessions.js';
import { createUser } from '../../hub/auth/users.js';
import { ConsoleBroker, DESKTOP_WS_PATH, TICKET_PROTOCOL_PREFIX } from '../../hub/desktop/console-broker.js';
import { ConsoleTickets } from '../../hub/desktop/console-tickets.js';
import type { AgentGateway } from '../../hub/gateway/agent-gateway.js';
import { HubStore } from '../../hub/store/hub-store.js';

let dir: string;
let store: HubStore;
let server: Server;
let tickets: ConsoleTickets;
const asked: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'foundry-console-session-'));
  store = new HubStore(join(dir, 'hub.db'));
  await createUser(store.users, { name: 'tom', role: 'tenant', tenant: 'acme' }, 'one-time-password-1', new Date());
  tickets = new ConsoleTickets();
  // No agent is connected: a ticket that gets this far is answered 503 after the hub asked the node.
  const gateway = { send: (node: string) => (asked.push(node), false) } as unknown as AgentGateway;
  const broker = new ConsoleBroker({ store, gateway, tickets, log: pino({ level: 'silent' }) });
  server = createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => broker.handleUpgrade(req, socket, head));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The status line the broker answers a console upgrade with. */
function upgrade(ticket: string, cookie: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({
      port: (server.address() as AddressInfo).port, host: '127.0.0.1', path: DESKTOP_WS_PATH,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': `binary, ${TICKET_PROTOCOL_PREFIX}${ticket}`, ...(cookie === undefined ? {} : { cookie }) },
    });
    req.on('response', (res) => resolve(`${res.statusCode} ${res.statusMessage}`));
    req.on('upgrade', (res, socket) => (socket.destroy(), resolve(`${res.statusCode}`)));
    req.on('error', reject);
    req.end();
  });
}

it('redeems a ticket only with the live session it was issued for', async () => {
  const session = await openSession(store.sessions, 'tom', '127.0.0.1', new Date());
  const other = await openSession(store.sessions, 'tom', '127.0.0.1', new Date());
  const grant = { workspace: 'ws-1', tenant: 'acme', node: 'gpu-01', sessionHash: hashSecret(session.id), actor: 'tenant:tom' };

  expect(await upgrade(tickets.issue(grant).ticket, `${SESSION_COOKIE}=${other.id}`)).toBe('403 console ticket refused (other-session)');
  expect(await upgrade(tickets.issue(grant).ticket, undefined)).toBe('403 console ticket refused (other-session)');
  expect(asked).toEqual([]);
  expect(await upgrade(tickets.issue(grant).ticket, `${SESSION_COOKIE}=${session.id}`)).toBe('503 node gpu-01 is not connected');
  expect(asked).toEqual(['gpu-01']);
  // a session that ended no longer carries its tickets
  await store.sessions.delete(hashSecret(session.id));
  expect(await upgrade(tickets.issue(grant).ticket, `${SESSION_COOKIE}=${session.id}`)).toBe('403 console ticket refused (other-session)');
  expect(asked).toEqual(['gpu-01']);
});

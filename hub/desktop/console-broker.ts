/**
 * The hub's console broker: the browser's console WebSocket (/api/v1/desktop/ws, a one-time ticket in the
 * Sec-WebSocket-Protocol header plus the session cookie it is bound to) and the agent's tunnel WebSocket
 * (/api/v1/agent/console, the node credential plus the tunnel id) meet here and are spliced. The hub never
 * dials a node: it asks the node's agent over its link (`console-open`) to dial back.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { FastifyBaseLogger } from 'fastify';
import { AGENT_CONSOLE_PATH, TUNNEL_HEADER } from '../../common/protocol/codec.js';
import { hashSecret, tokenFromAuthorization } from '../auth/secrets.js';
import { SESSION_COOKIE, findSession } from '../auth/sessions.js';
import type { HubStore, NodeAuth } from '../store/hub-store.js';
import type { AgentGateway } from '../gateway/agent-gateway.js';
import type { ConsoleTickets, TicketGrant } from './console-tickets.js';
import { spliceSockets } from './ws-splice.js';
import { pipeSocket } from '../../common/stream/pipe-socket.js';

/** Path of the browser's console WebSocket. */
export const DESKTOP_WS_PATH = '/api/v1/desktop/ws';
/** Prefix of the subprotocol that carries the ticket (never the URL: URLs end up in logs). */
export const TICKET_PROTOCOL_PREFIX = 'foundry-ticket.';

/** Collaborators of the broker. */
export interface ConsoleBrokerDeps {
  store: HubStore;
  gateway: AgentGateway;
  tickets: ConsoleTickets;
  log: FastifyBaseLogger;
  /** How long the agent has to dial back (default 15 s). */
  dialBackMs?: number;
  now?: () => Date;
}

/** The far end of a tunnel: the browser's WebSocket (noVNC) or a TCP socket (guacd through a relay port). */
type Peer = { kind: 'ws'; ws: WebSocket } | { kind: 'tcp'; socket: Socket };

/** What a tunnel is for: the workspace, its node, who, and for the audit log. */
export type TunnelGrant = Pick<TicketGrant, 'workspace' | 'tenant' | 'node' | 'actor'>;

interface Pending {
  node: string;
  grant: TunnelGrant;
  peer: Peer;
  via: 'novnc' | 'guacamole';
  ip: string | undefined;
  timer: NodeJS.Timeout;
}

function reject(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}

/** True when an Origin header, if sent, names this host (cross-site WebSocket hijacking). */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** Routes console upgrades and splices browser and agent. */
export class ConsoleBroker {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4 * 1024 * 1024, handleProtocols: (p) => (p.has('binary') ? 'binary' : false) });
  private readonly pending = new Map<string, Pending>();
  private readonly live = new Set<WebSocket>();
  /** Open consoles, settled once both ends closed and the close is audited. */
  private readonly open = new Set<Promise<void>>();

  constructor(private readonly deps: ConsoleBrokerDeps) {}

  /** The tickets this broker redeems (the ticket route issues them). */
  get tickets(): ConsoleTickets {
    return this.deps.tickets;
  }

  /** True for the paths this broker serves. */
  static handles(path: string): boolean {
    return path === DESKTOP_WS_PATH || path === AGENT_CONSOLE_PATH;
  }

  /** Handles an upgrade on one of its paths. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '').split('?')[0];
    // The session lookup is a store query: a failing one ends the connection instead of leaving it hanging.
    if (path === DESKTOP_WS_PATH) this.browser(req, socket, head).catch(() => socket.destroy());
    else this.agent(req, socket, head);
  }

  private async browser(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { log, tickets, gateway } = this.deps;
    if (!sameOrigin(req)) return reject(socket, 403, 'cross-origin console refused');
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
    const ticket = offered.find((p) => p.startsWith(TICKET_PROTOCOL_PREFIX))?.slice(TICKET_PROTOCOL_PREFIX.length);
    if (ticket === undefined || ticket === '') return reject(socket, 401, 'a console ticket is required');
    const sid = cookie(req.headers.cookie, SESSION_COOKIE);
    const session = sid === undefined ? undefined : await findSession(this.deps.store.sessions, sid, this.now());
    const r = tickets.redeem(ticket, session === undefined || sid === undefined ? undefined : hashSecret(sid));
    if (!r.ok) {
      log.warn({ reason: r.reason }, 'console ticket refused');
      return reject(socket, 403, `console ticket refused (${r.reason})`);
    }
    const { grant } = r;
    const tunnel = randomBytes(18).toString('base64url');
    if (!gateway.send(grant.node, 'console-open', { tunnel, workspace: grant.workspace, protocol: 'vnc' })) return reject(socket, 503, `node ${grant.node} is not connected`);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.live.add(ws);
      ws.once('close', () => {
        this.live.delete(ws);
        this.drop(tunnel);
      });
      this.wait(tunnel, grant, { kind: 'ws', ws }, 'novnc', req.socket.remoteAddress);
    });
  }

  /**
   * Opens a console for a TCP peer (guacd on a Guacamole relay port): asks the node's agent to dial back
   * and splices its tunnel with `socket`; the socket is closed when the node is not connected.
   */
  openTcp(socket: Socket, grant: TunnelGrant): void {
    const tunnel = randomBytes(18).toString('base64url');
    socket.on('error', () => socket.destroy());
    if (!this.deps.gateway.send(grant.node, 'console-open', { tunnel, workspace: grant.workspace, protocol: 'vnc' })) {
      this.deps.log.warn({ workspace: grant.workspace, node: grant.node }, 'guacamole console refused: node not connected');
      socket.destroy();
      return;
    }
    socket.once('close', () => this.drop(tunnel));
    this.wait(tunnel, grant, { kind: 'tcp', socket }, 'guacamole', socket.remoteAddress);
  }

  /** Waits for the agent of `grant.node` to dial back for `tunnel`; closes the peer after the dial-back time. */
  private wait(tunnel: string, grant: TunnelGrant, peer: Peer, via: Pending['via'], ip: string | undefined): void {
    const timer = setTimeout(() => {
      this.drop(tunnel);
      if (peer.kind === 'ws') peer.ws.close(1011, `node ${grant.node} did not open the console`);
      else peer.socket.destroy();
    }, this.deps.dialBackMs ?? 15_000);
    timer.unref();
    this.pending.set(tunnel, { node: grant.node, grant, peer, via, ip, timer });
  }

  private agent(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const credential = tokenFromAuthorization(req.headers.authorization);
    if (credential === undefined) return reject(socket, 401, 'Unauthorized');
    this.deps.store.authenticateNode(credential).then(
      (auth) => (socket.destroyed ? undefined : this.agentAuthenticated(req, socket, head, auth)),
      () => reject(socket, 503, 'Service Unavailable'),
    );
  }

  private agentAuthenticated(req: IncomingMessage, socket: Duplex, head: Buffer, auth: NodeAuth): void {
    if (!auth.ok) return reject(socket, 401, 'Unauthorized');
    const tunnel = String(req.headers[TUNNEL_HEADER] ?? '');
    const p = this.pending.get(tunnel);
    // Another node's tunnel id is as good as none: a node can only serve its own consoles.
    if (p === undefined || p.node !== auth.node) return reject(socket, 404, 'no such console tunnel');
    this.drop(tunnel);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.splice(p, tunnel, ws));
  }

  private splice(p: Pending, tunnel: string, agentWs: WebSocket): void {
    const { store, log } = this.deps;
    this.live.add(agentWs);
    agentWs.once('close', () => this.live.delete(agentWs));
    const started = this.now().getTime();
    const details = { node: p.node, tenant: p.grant.tenant, via: p.via, tunnel, ...(p.ip === undefined ? {} : { ip: p.ip }) };
    void store.audit(p.grant.actor, 'desktop.open', p.grant.workspace, details).catch((err: unknown) => log.error({ workspace: p.grant.workspace, err: err instanceof Error ? err.message : String(err) }, 'console open not audited'));
    log.info({ workspace: p.grant.workspace, node: p.node }, 'console open');
    let closeReason = '';
    agentWs.once('close', (code: number, reason: Buffer) => (closeReason ||= `agent ${code} ${reason.toString()}`.trim()));
    const peer = p.peer;
    const done = peer.kind === 'ws'
      ? (peer.ws.once('close', (code: number) => (closeReason ||= `browser ${code}`)), spliceSockets(peer.ws, agentWs).then((x) => ({ toNode: x.aToB, fromNode: x.bToA })))
      : (peer.socket.once('close', () => (closeReason ||= 'guacd')), pipeSocket(agentWs, peer.socket).then((x) => ({ toNode: x.toWebSocket, fromNode: x.toSocket })));
    const audited = done.then(async (bytes) => {
      const seconds = Math.round((this.now().getTime() - started) / 1000);
      try {
        await store.audit(p.grant.actor, 'desktop.close', p.grant.workspace, { ...details, seconds, bytesToNode: bytes.toNode, bytesFromNode: bytes.fromNode, closedBy: closeReason });
      } catch (err) {
        log.error({ workspace: p.grant.workspace, err: err instanceof Error ? err.message : String(err) }, 'console close not audited');
      }
      log.info({ workspace: p.grant.workspace, node: p.node, seconds }, 'console closed');
    });
    this.open.add(audited);
    void audited.finally(() => this.open.delete(audited));
  }

  private drop(tunnel: string): void {
    const p = this.pending.get(tunnel);
    if (p === undefined) return;
    clearTimeout(p.timer);
    this.pending.delete(tunnel);
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** Closes every console (hub stopping) and waits until their closes are audited; browsers reconnect with a new ticket. */
  async close(): Promise<void> {
    for (const [t, p] of [...this.pending]) {
      if (p.peer.kind === 'tcp') p.peer.socket.destroy();
      this.drop(t);
    }
    for (const ws of this.live) ws.close(1001, 'hub shutting down');
    this.wss.close();
    // a peer that does not answer the close handshake is cut after 2 s
    const cut = setTimeout(() => this.live.forEach((ws) => ws.terminate()), 2000);
    await Promise.all([...this.open]);
    clearTimeout(cut);
  }
}

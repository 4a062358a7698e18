/**
 * The agents' WebSocket gateway at /api/v1/agent/ws: `ws` in noServer mode on the HTTP server's upgrade
 * event. The node credential travels in the Authorization header (never the URL), is checked before the
 * upgrade, and decides which node the connection speaks for. One connection per node: a newer one
 * replaces the older.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { FastifyBaseLogger } from 'fastify';
import { AGENT_WS_PATH, MAX_WS_PAYLOAD_BYTES, type CommandMessage, type HubToAgent, type MessageByType, type SecretsMessage } from '../../common/protocol/codec.js';
import { tokenFromAuthorization } from '../auth/secrets.js';
import { AgentConnection, CLOSE, type ConnectionDeps } from './agent-connection.js';

function reject(socket: Duplex, status: number, text: string, extra = ''): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\n${extra}Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
}

/** Accepts, tracks and commands agent connections. Events: 'connected' (node), 'disconnected' (node). */
export class AgentGateway extends EventEmitter {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_PAYLOAD_BYTES, perMessageDeflate: false });
  private readonly connections = new Map<string, AgentConnection>();
  private readonly alive = new WeakSet<WebSocket>();
  private readonly heartbeat: NodeJS.Timeout;
  private closing = false;

  constructor(
    private readonly deps: ConnectionDeps & { heartbeatMs?: number },
  ) {
    super();
    // Ping every interval; a socket that missed the previous pong is dead (half-open TCP) and is dropped.
    this.heartbeat = setInterval(() => this.sweep(), deps.heartbeatMs ?? 30_000);
    this.heartbeat.unref();
  }

  private get log(): FastifyBaseLogger {
    return this.deps.log;
  }

  /** Handles an HTTP upgrade; answers 404/401/403 for wrong paths and credentials. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '').split('?')[0];
    if (path !== AGENT_WS_PATH) return reject(socket, 404, 'Not Found');
    if (this.closing) return reject(socket, 503, 'Service Unavailable');
    const credential = tokenFromAuthorization(req.headers.authorization);
    if (credential === undefined) return reject(socket, 401, 'Unauthorized', 'WWW-Authenticate: Bearer\r\n');
    this.deps.store.authenticateNode(credential).then(
      (auth) => {
        if (socket.destroyed) return;
        if (!auth.ok) {
          this.log.warn({ node: auth.node, reason: auth.reason }, 'agent connection refused');
          return reject(socket, auth.reason === 'revoked' ? 403 : 401, auth.reason === 'revoked' ? 'Forbidden' : 'Unauthorized');
        }
        if (this.closing) return reject(socket, 503, 'Service Unavailable');
        this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(auth.node, ws));
      },
      (err: unknown) => {
        // the store is unreachable (PostgreSQL restarting): the agent retries with backoff
        this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'agent connection refused: credential check failed');
        reject(socket, 503, 'Service Unavailable');
      },
    );
  }

  private accept(node: string, ws: WebSocket): void {
    const previous = this.connections.get(node);
    if (previous !== undefined) previous.close(CLOSE.REPLACED, 'replaced by a newer connection');
    const conn = new AgentConnection(node, ws, this.deps);
    this.connections.set(node, conn);
    this.alive.add(ws);
    this.deps.metrics.connectedAgents.set(this.connections.size);
    ws.on('pong', () => this.alive.add(ws));
    ws.on('error', (err) => this.log.debug({ node, err: err.message }, 'agent socket error'));
    ws.on('close', () => {
      if (this.connections.get(node) !== conn) return;
      this.connections.delete(node);
      this.deps.metrics.connectedAgents.set(this.connections.size);
      this.deps.metrics.gpus.removeNode(node);
      this.deps.queue.defer((tx) => this.deps.store.markSeen(node, 'disconnected', tx));
      this.emit('disconnected', node);
    });
    this.deps.queue.defer((tx) => this.deps.store.markSeen(node, 'connected', tx));
    this.log.info({ node }, 'agent connected');
    this.emit('connected', node);
  }

  private sweep(): void {
    for (const ws of this.wss.clients) {
      if (!this.alive.has(ws)) {
        ws.terminate();
        continue;
      }
      this.alive.delete(ws);
      ws.ping();
    }
  }

  /** Names of connected nodes. */
  connectedNodes(): string[] {
    return [...this.connections.keys()].sort();
  }

  /** Sends a command to one node; false when it is not connected. */
  command(node: string, body: CommandMessage['body']): boolean {
    const conn = this.connections.get(node);
    conn?.send('command', body);
    return conn !== undefined;
  }

  /** Sends any hub-to-agent message to one node (console-open...); false when it is not connected. */
  send<T extends HubToAgent>(node: string, type: T, body: MessageByType[T]['body']): boolean {
    const conn = this.connections.get(node);
    conn?.send(type, body);
    return conn !== undefined;
  }

  /** Sends workspace secrets (already encrypted to this node) to one node; false when it is not connected. */
  sendSecrets(node: string, body: SecretsMessage['body']): boolean {
    return this.send(node, 'secrets', body);
  }

  /** Sends a command to every connected agent; returns how many got it. */
  broadcast(body: CommandMessage['body']): number {
    this.connections.forEach((c) => c.send('command', body));
    return this.connections.size;
  }

  /** Disconnects a node (after revocation). */
  disconnect(node: string, reason = 'credential revoked'): void {
    this.connections.get(node)?.close(CLOSE.REVOKED, reason);
  }

  /** Installs the volume key service (built after the gateway: it sends through it). */
  setVolumeKeys(svc: NonNullable<ConnectionDeps['volumeKeys']>): void {
    this.deps.volumeKeys = svc;
  }

  /** Sends volume keys (or a forget list) to a connected node; false when it is not connected. */
  sendVolumeKeys(node: string, body: MessageByType['volume-keys']['body']): boolean {
    const conn = this.connections.get(node);
    conn?.send('volume-keys', body);
    return conn !== undefined;
  }

  /** Graceful stop: refuse new connections, commit and ack what was received, then close every socket. */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeat);
    await this.deps.queue.flush();
    const closed = [...this.wss.clients].map((ws) => new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      ws.close(CLOSE.GOING_AWAY, 'hub shutting down');
      setTimeout(() => { ws.terminate(); resolve(); }, 2000).unref();
    }));
    await Promise.all(closed);
    await this.deps.queue.close();
    this.connections.clear();
    this.deps.metrics.connectedAgents.set(0);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

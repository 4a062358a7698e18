/**
 * The agent's side of a console tunnel. On the hub's `console-open` the agent finds the workspace VM's
 * console on this node (a loopback listener), connects to it, and dials a SECOND outbound WebSocket to the
 * hub for that console only (node credential + tunnel id in headers; nothing dials in). Bytes are piped
 * both ways through Node streams, so backpressure pauses the side that is ahead (bounded buffers), and
 * either side closing closes the other. A console that cannot be reached still dials the hub, then closes
 * with a code and a reason the hub passes on to the browser. The piping is common/stream/pipe-socket.ts.
 */
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { pipeSocket } from '../../common/stream/pipe-socket.js';
import { AGENT_CONSOLE_PATH, TUNNEL_HEADER } from '../../common/protocol/codec.js';
import { errorMessage } from '../../common/errors.js';
import type { ConsoleOpen, LinkLogger } from '../link/hub-link.js';

/** Close code the agent uses when the console cannot be reached (the reason says why). */
export const CONSOLE_UNAVAILABLE_CLOSE = 4404;

/** Where a workspace's console listens on this node; throws a message safe to show when there is none. */
export type ConsoleLocator = (workspace: string) => Promise<{ host: string; port: number }>;

/** Options of ConsoleTunnels. */
export interface ConsoleTunnelOptions {
  hubUrl: string;
  credential: string;
  locate: ConsoleLocator;
  ca?: string | Buffer;
  /** Tunnels open at once, at most (default 16); more are refused with a reason. */
  maxTunnels?: number;
  /** Stream buffer per direction and side (default 64 KiB). */
  highWaterMark?: number;
  log: LinkLogger;
}

/** Opens and tracks this node's console tunnels. */
export class ConsoleTunnels {
  private readonly open = new Set<WebSocket>();

  constructor(private readonly opts: ConsoleTunnelOptions) {}

  /** Tunnels open now. */
  get size(): number {
    return this.open.size;
  }

  /** Handles one console-open request; resolves once the tunnel is set up or refused (never rejects). */
  async handle(req: ConsoleOpen): Promise<void> {
    let tcp: Socket | undefined;
    let refusal: string | undefined;
    if (this.open.size >= (this.opts.maxTunnels ?? 16)) refusal = `this node already has ${this.open.size} consoles open`;
    else {
      try {
        const at = await this.opts.locate(req.workspace);
        tcp = await connectTcp(at.host, at.port);
      } catch (err) {
        refusal = errorMessage(err);
      }
    }
    const ws = this.dial(req.tunnel);
    this.open.add(ws);
    ws.once('close', () => this.open.delete(ws));
    ws.on('error', (err) => this.opts.log.debug({ tunnel: req.tunnel, err: errorMessage(err) }, 'console socket error'));
    ws.once('open', () => {
      if (tcp === undefined) {
        this.opts.log.warn({ workspace: req.workspace, reason: refusal }, 'console refused');
        ws.close(CONSOLE_UNAVAILABLE_CLOSE, (refusal ?? 'console unavailable').slice(0, 120));
        return;
      }
      this.opts.log.info({ workspace: req.workspace, tunnel: req.tunnel }, 'console tunnel open');
      void pipeSocket(ws, tcp, this.opts.highWaterMark ?? 64 * 1024);
    });
    ws.once('unexpected-response', (_r, res) => {
      this.opts.log.warn({ tunnel: req.tunnel, status: res.statusCode }, 'hub refused the console tunnel');
      ws.terminate();
      tcp?.destroy();
    });
  }

  /** Closes every tunnel (agent stopping). */
  closeAll(): void {
    for (const ws of this.open) ws.terminate();
  }

  private dial(tunnel: string): WebSocket {
    const base = this.opts.hubUrl.replace(/\/+$/, '').replace(/^http/, 'ws');
    return new WebSocket(`${base}${AGENT_CONSOLE_PATH}`, {
      headers: { authorization: `Bearer ${this.opts.credential}`, [TUNNEL_HEADER]: tunnel },
      perMessageDeflate: false,
      handshakeTimeout: 10_000,
      ca: this.opts.ca,
    });
  }
}

function connectTcp(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.off('error', reject);
      s.setNoDelay(true);
      resolve(s);
    });
    s.once('error', (err) => reject(new Error(`cannot connect to the console at ${host}:${port}: ${err.message}`)));
  });
}

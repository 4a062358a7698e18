/**
 * Test support: a WebSocket relay between an agent and the hub that records every message both ways
 * (text as sent), so a test can search what crossed the link. It relays whole messages with `ws` on
 * both sides; the Authorization header is passed on, never recorded. Other HTTP requests (git) pass
 * through as they are.
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';

/** A running relay: its URL (give it to the agent as the hub URL) and what it saw. */
export interface WsRecorder {
  url: string;
  /** Every message, in order, with its direction. */
  frames: Array<{ dir: 'to-agent' | 'to-hub'; text: string }>;
  close(): Promise<void>;
}

/** Relays ws://127.0.0.1:PORT/<path> to `hubUrl` (http://...) and records the messages. */
export async function startWsRecorder(hubUrl: string): Promise<WsRecorder> {
  const frames: WsRecorder['frames'] = [];
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  // Plain HTTP (the agent's git fetches of the hosted repo, same origin as the hub) is passed through unrecorded.
  const target = new URL(hubUrl);
  const server: Server = createServer((req, res) => {
    const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const upstream = new WebSocket(`${hubUrl.replace(/^http/, 'ws')}${req.url ?? '/'}`, { headers: { authorization: req.headers.authorization ?? '' }, perMessageDeflate: false });
    upstream.on('unexpected-response', (_r, res) => socket.end(`HTTP/1.1 ${res.statusCode ?? 502} Refused\r\nContent-Length: 0\r\n\r\n`));
    upstream.on('error', () => socket.destroy());
    upstream.on('open', () => {
      wss.handleUpgrade(req, socket, head, (client) => {
        upstream.on('message', (data: Buffer) => {
          frames.push({ dir: 'to-agent', text: data.toString('utf8') });
          if (client.readyState === client.OPEN) client.send(data.toString('utf8'));
        });
        client.on('message', (data: Buffer) => {
          frames.push({ dir: 'to-hub', text: data.toString('utf8') });
          if (upstream.readyState === upstream.OPEN) upstream.send(data.toString('utf8'));
        });
        client.on('close', () => upstream.close());
        upstream.on('close', () => client.close());
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  return {
    url: `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`,
    frames,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

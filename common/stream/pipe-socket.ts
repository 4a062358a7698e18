/**
 * Pipes a WebSocket and a TCP socket both ways (a console tunnel's ends: the agent's VNC connection, the
 * hub's Guacamole relay). `pipe` pauses a source whose destination's buffer is full (the WebSocket stream
 * pauses the socket's reads, a full TCP write buffer pauses the WebSocket), so at most about
 * `highWaterMark` bytes wait per direction. Either side ending closes the other.
 */
import type { Socket } from 'node:net';
import WebSocket, { createWebSocketStream } from 'ws';

/** Bytes that crossed, per direction. */
export interface PipeStats {
  toSocket: number;
  toWebSocket: number;
}

/** Pipes `ws` and `tcp`; resolves with the byte counts once both are closed. */
export function pipeSocket(ws: WebSocket, tcp: Socket, highWaterMark = 64 * 1024): Promise<PipeStats> {
  const stats: PipeStats = { toSocket: 0, toWebSocket: 0 };
  const wsStream = createWebSocketStream(ws, { highWaterMark });
  wsStream.on('data', (d: Buffer) => (stats.toSocket += d.length));
  tcp.on('data', (d: Buffer) => (stats.toWebSocket += d.length));
  wsStream.on('error', () => tcp.destroy());
  tcp.on('error', () => {
    if (ws.readyState === WebSocket.OPEN) ws.close(1011, 'console connection failed');
  });
  wsStream.pipe(tcp);
  tcp.pipe(wsStream);
  const tcpClosed = new Promise<void>((resolve) => tcp.once('close', () => {
    if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'console closed');
    resolve();
  }));
  const wsClosed = new Promise<void>((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) resolve();
    ws.once('close', () => {
      tcp.destroy();
      resolve();
    });
  });
  return Promise.all([tcpClosed, wsClosed]).then(() => stats);
}

/**
 * Splices two WebSockets (the browser's and the agent's console tunnel): binary messages flow both ways
 * through Node streams (`createWebSocketStream`), so a slow reader pauses the other side's socket reads
 * instead of growing a buffer; at most about `highWaterMark` bytes wait per direction. Either side closing
 * closes the other with the same code and reason (codes that may not be sent become 1000 or 1011).
 */
import WebSocket, { createWebSocketStream } from 'ws';

/** Bytes that crossed a splice, per direction. */
export interface SpliceStats {
  aToB: number;
  bToA: number;
}

/** A close code that may be sent on the wire for one received (1005/1006/1015 may not). */
export function sendableCode(code: number): number {
  if (code === 1000 || (code >= 1001 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999)) return code;
  return code === 1005 ? 1000 : 1011;
}

/** Splices `a` and `b`; resolves with the byte counts once both are closed. */
export function spliceSockets(a: WebSocket, b: WebSocket, highWaterMark = 64 * 1024): Promise<SpliceStats> {
  const stats: SpliceStats = { aToB: 0, bToA: 0 };
  a.on('message', (d: Buffer) => (stats.aToB += d.length));
  b.on('message', (d: Buffer) => (stats.bToA += d.length));
  const sa = createWebSocketStream(a, { highWaterMark });
  const sb = createWebSocketStream(b, { highWaterMark });
  // end: false: closing is done below with the peer's code and reason, not by the stream's end.
  sa.pipe(sb, { end: false });
  sb.pipe(sa, { end: false });
  sa.on('error', () => undefined);
  sb.on('error', () => undefined);
  const follow = (from: WebSocket, to: WebSocket): Promise<void> =>
    new Promise((resolve) => {
      const onClose = (code: number, reason: Buffer): void => {
        if (to.readyState === WebSocket.OPEN || to.readyState === WebSocket.CONNECTING) to.close(sendableCode(code), reason.toString().slice(0, 120));
        resolve();
      };
      if (from.readyState === WebSocket.CLOSED) onClose(1006, Buffer.alloc(0));
      else from.once('close', onClose);
    });
  return Promise.all([follow(a, b), follow(b, a)]).then(() => stats);
}

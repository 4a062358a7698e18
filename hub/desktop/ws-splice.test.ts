/**
 * The splice on real loopback WebSockets: bytes cross both ways in order, a reader that stops reading
 * holds the sender back (the hub buffers a bounded amount; the rest waits at the sender), and either side
 * closing closes the other with its code and reason.
 */
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { sendableCode, spliceSockets, type SpliceStats } from './ws-splice.js';

let wss: WebSocketServer | undefined;
afterEach(async () => {
  for (const c of wss?.clients ?? []) c.terminate();
  await new Promise<void>((r) => (wss === undefined ? r() : wss.close(() => r())));
  wss = undefined;
});

/** A server that splices its first two connections; returns the two clients and the hub-side sockets. */
async function pair(): Promise<{ a: WebSocket; b: WebSocket; hubB: WebSocket; done: Promise<SpliceStats> }> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  wss = server;
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const hub: WebSocket[] = [];
  // wrapped: resolving with a bare promise would wait for the splice to end
  let resolveDone: (s: { stats: Promise<SpliceStats> }) => void = () => undefined;
  const done = new Promise<{ stats: Promise<SpliceStats> }>((r) => (resolveDone = r));
  server.on('connection', (ws) => {
    hub.push(ws);
    if (hub.length === 2) resolveDone({ stats: spliceSockets(hub[0]!, hub[1]!, 16 * 1024) });
  });
  const a = new WebSocket(`ws://127.0.0.1:${port}`);
  await once(a, 'open');
  const b = new WebSocket(`ws://127.0.0.1:${port}`);
  await once(b, 'open');
  const { stats } = await done;
  return { a, b, hubB: hub[1]!, done: stats };
}

describe('spliceSockets', () => {
  it('carries binary messages both ways and closes the other side with the same code and reason', async () => {
    const { a, b, done } = await pair();
    const gotB = once(b, 'message');
    a.send(Buffer.from('hello from a'));
    expect(Buffer.concat([(await gotB)[0] as Buffer]).toString()).toBe('hello from a');
    const gotA = once(a, 'message');
    b.send(Buffer.from('and back'));
    expect(((await gotA)[0] as Buffer).toString()).toBe('and back');
    const closed = once(b, 'close');
    a.close(4404, 'no console');
    const [code, reason] = (await closed) as [number, Buffer];
    expect([code, reason.toString()]).toEqual([4404, 'no console']);
    expect(await done).toEqual({ aToB: 12, bToA: 8 });
  });

  it('holds the sender back while the reader does not read, and delivers everything in order after', async () => {
    const { a, b, hubB } = await pair();
    const chunk = 1024 * 1024;
    const total = 48;
    b.pause();
    for (let i = 0; i < total; i++) a.send(Buffer.alloc(chunk, i % 251));
    await new Promise((r) => setTimeout(r, 1500));
    // Most of it still waits at the sender: the hub stopped reading instead of buffering it all.
    expect(a.bufferedAmount).toBeGreaterThan(24 * chunk);
    expect(hubB.bufferedAmount).toBeLessThan(8 * chunk);
    let got = 0;
    let inOrder = true;
    const all = new Promise<void>((resolve) => b.on('message', (d: Buffer) => {
      if (d[0] !== Math.floor(got / chunk) % 251) inOrder = false;
      got += d.length;
      if (got >= total * chunk) resolve();
    }));
    b.resume();
    await all;
    expect(got).toBe(total * chunk);
    expect(inOrder).toBe(true);
  }, 30_000);

  it('maps codes that may not be sent', () => {
    expect([1000, 1001, 1005, 1006, 1011, 1015, 4001].map(sendableCode)).toEqual([1000, 1001, 1000, 1011, 1011, 1011, 4001]);
  });
});

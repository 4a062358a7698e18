/** A TCP proxy that delays every chunk by a fixed time each way (the latency half of a slow link when netem is missing). */
import { connect, createServer, type Server, type Socket } from 'node:net';

/** A running delay proxy. */
export interface DelayProxy {
  port: number;
  /** Chunks delayed so far, and connections accepted. */
  stats: { chunks: number; connections: number };
  close(): Promise<void>;
}

function delayed(from: Socket, to: Socket, ms: number, stats: DelayProxy['stats']): void {
  // Equal delays keep order: timers with the same timeout fire in the order they were set.
  from.on('data', (chunk: Buffer) => {
    stats.chunks += 1;
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, ms);
  });
  from.on('end', () => setTimeout(() => to.end(), ms));
}

/** Listens on `host`:0 and forwards to 127.0.0.1:`targetPort`, delaying by `delayMs` each way. */
export async function startDelayProxy(host: string, targetPort: number, delayMs: number): Promise<DelayProxy> {
  const stats = { chunks: 0, connections: 0 };
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    stats.connections += 1;
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => { client.destroy(); upstream.destroy(); });
      s.on('close', () => { sockets.delete(s); client.destroy(); upstream.destroy(); });
    }
    delayed(client, upstream, delayMs, stats);
    delayed(upstream, client, delayMs, stats);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr !== null ? addr.port : 0,
    stats,
    close() {
      sockets.forEach((s) => s.destroy());
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback TCP proxy whose connections a test can cut at any moment (a flaky network between agent and hub). */
import { createServer, connect, type Server, type Socket } from 'node:net';

/** A running proxy. */
export interface CuttableProxy {
  port: number;
  /** Destroys every open connection pair (both ends see a reset). */
  cut(): number;
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1:0 forwarding to 127.0.0.1:`targetPort`. */
export async function startProxy(targetPort: number): Promise<CuttableProxy> {
  const pairs = new Set<[Socket, Socket]>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const drop = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const cut = (): number => {
    const n = pairs.size;
    for (const [a, b] of pairs) {
      a.resetAndDestroy();
      b.resetAndDestroy();
    }
    pairs.clear();
    return n;
  };
  return {
    port: typeof addr === 'object' && addr !== null ? addr.port : 0,
    cut,
    close() {
      cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The agent's metrics endpoint: a small node:http listener that answers GET /metrics (Prometheus text
 * format) and nothing else. It serves only what `render` returns; errors are answered 500 without detail.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsListen } from './metrics-listen.js';

/** A listening metrics endpoint. */
export interface MetricsServer {
  /** Where it listens (the real port when 0 was asked for). */
  address: { host: string; port: number };
  close(): Promise<void>;
}

/** What the endpoint serves: the body and its content type. */
export interface MetricsSource {
  contentType: string;
  metrics(): Promise<string>;
}

/** Starts listening on `listen`; rejects (EADDRINUSE, EACCES...) when the address cannot be bound. */
export async function startMetricsServer(listen: MetricsListen, source: MetricsSource): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: the agent serves GET /metrics only\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    source.metrics().then(
      (body) => res.writeHead(200, { 'content-type': source.contentType }).end(req.method === 'HEAD' ? undefined : body),
      () => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics could not be collected\n'),
    );
  });
  // A scrape is one short request: idle keep-alive sockets must not hold the agent's stop.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  return {
    address: { host: listen.host, port: addr.port },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Test support: HTTP/1.1 requests to the ingress with an explicit Host header (getaddrinfo does not
 * resolve *.localhost here), streamed reads, and a raw socket for malformed requests.
 */
import { request, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
export { freePort } from '../support/free-port.js';

/** A finished response. */
export interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** One request to 127.0.0.1:port with `host`; resolves with the whole body. */
export function get(port: number, host: string, path: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: { host, ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`request ${host}${path} timed out`)));
    req.end(body);
  });
}

/** A streamed response: `next()` resolves with the next chunk received. */
export interface Stream {
  status: number;
  headers: IncomingMessage['headers'];
  next(): Promise<string>;
  /** Everything still to come, up to the end. */
  rest(): Promise<string>;
  close(): void;
}

/** Opens a request and hands back the response as it streams. */
export function open(port: number, host: string, path: string, headers: Record<string, string> = {}): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host, ...headers }, agent: false }, (res) => {
      const queue: string[] = [];
      const waiters: Array<(s: string) => void> = [];
      let ended = false;
      const endWaiters: Array<(s: string) => void> = [];
      res.on('data', (c: Buffer) => {
        const w = waiters.shift();
        if (w !== undefined) w(c.toString('utf8'));
        else queue.push(c.toString('utf8'));
      });
      res.on('end', () => {
        ended = true;
        endWaiters.forEach((w) => w(queue.splice(0).join('')));
      });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        next: () => (queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((r) => waiters.push(r))),
        rest: () => (ended ? Promise.resolve(queue.splice(0).join('')) : new Promise((r) => endWaiters.push(r))),
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Sends raw bytes on a fresh connection; resolves with what came back before the server closed (or `waitMs` passed). */
export function raw(port: number, bytes: string, waitMs = 15_000): Promise<{ text: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ text, closedByServer: false });
    }, waitMs);
    s.on('data', (d: Buffer) => (text += d.toString('latin1')));
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closedByServer: true });
    });
    s.on('error', () => undefined);
    s.write(bytes);
  });
}


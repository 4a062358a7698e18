/**
 * Which engine answers on the socket, from the headers of GET /_ping: Podman sends Libpod-Api-Version,
 * Docker Engine a "Server: Docker/x.y" header. Cheap, unlike /version (Podman runs conmon and the OCI
 * runtime to answer it, about a second here).
 */
import { request } from 'node:http';

/** The engine behind a Docker-compatible socket. */
export type Flavor = 'podman' | 'docker';

/** What /_ping says about the engine. */
export interface EngineInfo {
  flavor: Flavor;
  version: string;
  apiVersion: string;
}

/** Parses the /_ping response headers (lower-cased names, as node gives them). */
export function engineFromHeaders(headers: Record<string, string | string[] | undefined>): EngineInfo {
  const h = (name: string): string => {
    const v = headers[name];
    return (Array.isArray(v) ? v[0] : v) ?? '';
  };
  const libpod = h('libpod-api-version');
  if (libpod !== '') return { flavor: 'podman', version: libpod, apiVersion: h('api-version') };
  const server = /Docker\/(\S+)/.exec(h('server'));
  return { flavor: 'docker', version: server?.[1] ?? 'unknown', apiVersion: h('api-version') };
}

/** GET /_ping on the socket; rejects with the socket error (ENOENT, ECONNREFUSED...) or a status error. */
export function pingEngine(socketPath: string, timeoutMs: number): Promise<EngineInfo> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      if (res.statusCode !== 200) reject(Object.assign(new Error(`ping answered ${res.statusCode}`), { statusCode: res.statusCode }));
      else resolve(engineFromHeaders(res.headers));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('ping timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end();
  });
}

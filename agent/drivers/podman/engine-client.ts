/**
 * A small client of the Docker-compatible Engine API over its unix socket (node:http), for the calls the
 * Podman driver makes, plus the libpod endpoints it needs. It replaces dockerode, which pulls in
 * docker-modem, ssh2, tar-fs and more (about 25 MB of resident memory) for features the agent never uses.
 * Errors keep dockerode's shape, which engine-errors.ts reads: an EngineError with `statusCode` and the
 * engine's `json` body for an HTTP error; Node's own socket error (code ENOENT, ECONNREFUSED...) when the
 * socket is unreachable; code ETIMEDOUT when a call outlives its timeout.
 */
import { Agent, request, type IncomingMessage } from 'node:http';
import type { ContainerCreateBody, ContainerInspect, ContainerSummary, EngineFilters, NetworkCreateBody, NetworkSummary, VolumeSummary } from './engine-types.js';
import { errorFromAnswer } from './engine-errors.js';
import { pullImageStream, splitReference } from './engine-pull.js';

/** How to reach the engine. */
export interface EngineClientOptions {
  socketPath: string;
  /** Timeout of one call, from sending to the end of the answer (default 60 s). */
  timeoutMs?: number;
}

type QueryValue = string | number | boolean | undefined;
/** Options of one call. */
export interface CallOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
  timeoutMs?: number;
}

const MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * One connection per call, closed after the answer: a kept-alive connection the engine has meanwhile
 * closed fails the next write with EPIPE or ECONNRESET (not safe to resend a POST), and a unix-socket
 * connect costs well under a millisecond.
 */
export const ENGINE_AGENT = new Agent({ keepAlive: false });

/** Encodes a query string; undefined values are left out. */
export function queryString(query: Record<string, QueryValue> | undefined): string {
  const parts = Object.entries(query ?? {})
    .filter((e): e is [string, string | number | boolean] => e[1] !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

/** One path segment (a container id or name); image names keep their slashes, see imageSegment. */
function seg(s: string): string {
  return encodeURIComponent(s).replace(/%3A/gi, ':').replace(/%40/g, '@');
}

function imageSegment(image: string): string {
  return image.split('/').map(seg).join('/');
}

/** A client of one engine socket. Stateless; every call is one HTTP request. */
export class EngineClient {
  readonly socketPath: string;
  readonly timeoutMs: number;

  constructor(options: EngineClientOptions) {
    this.socketPath = options.socketPath;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** One JSON call: resolves the parsed answer (the text when not JSON, undefined when empty); rejects as described above. */
  async call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
    const full = `${path}${queryString(options.query)}`;
    const { status, text } = await this.send(method, full, options.body, options.timeoutMs ?? this.timeoutMs);
    if (status < 200 || status > 299) throw errorFromAnswer(method, full, status, text);
    if (text.trim() === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      return text as T;
    }
  }

  private send(method: string, path: string, body: unknown, timeoutMs: number): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      // A Uint8Array body goes as it is (a secret's value); anything else as JSON.
      const binary = body instanceof Uint8Array;
      const payload = body === undefined ? undefined : binary ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
      const headers: Record<string, string | number> = payload === undefined ? {} : { 'Content-Type': binary ? 'application/octet-stream' : 'application/json', 'Content-Length': payload.length };
      const req = request({ socketPath: this.socketPath, path, method, headers, agent: ENGINE_AGENT });
      let settled = false;
      const finish = (err: unknown, value?: { status: number; text: string }): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err === undefined && value !== undefined) resolve(value);
        else reject(err);
      };
      const timer = setTimeout(() => {
        finish(Object.assign(new Error(`${method} ${path.split('?')[0]} timed out after ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}`), { code: 'ETIMEDOUT' }));
        req.destroy();
      }, timeoutMs);
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= MAX_BODY_BYTES) chunks.push(c);
          else {
            finish(new Error(`${method} ${path.split('?')[0]}: the answer is larger than ${MAX_BODY_BYTES} bytes`));
            req.destroy();
          }
        });
        res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => finish(err));
        res.on('close', () => finish(Object.assign(new Error('the engine closed the connection mid-answer'), { code: 'ECONNRESET' })));
      });
      req.on('error', (err) => finish(err));
      req.end(payload);
    });
  }

  /** Every container (running or not) matching `filters`. */
  listContainers(filters: EngineFilters): Promise<ContainerSummary[]> {
    return this.call('GET', '/containers/json', { query: { all: true, filters: JSON.stringify(filters) } });
  }

  /** One container by id or name; 404 when absent. */
  inspectContainer(idOrName: string): Promise<ContainerInspect> {
    return this.call('GET', `/containers/${seg(idOrName)}/json`);
  }

  /** Creates a container through the Docker-compatible endpoint; resolves its id. */
  async createContainer(body: ContainerCreateBody): Promise<string> {
    const r = await this.call<{ Id: string }>('POST', '/containers/create', { query: { name: body.name }, body });
    return r.Id;
  }

  /** Creates a container through Podman's libpod endpoint (a SpecGenerator body); resolves its id. */
  async libpodCreateContainer(body: Record<string, unknown>): Promise<string> {
    const r = await this.call<{ Id: string }>('POST', '/v4.0.0/libpod/containers/create', { body });
    return r.Id;
  }

  /** Starts a container; 304 when it already runs. */
  async startContainer(id: string): Promise<void> {
    await this.call('POST', `/containers/${seg(id)}/start`);
  }

  /** Stops a container, giving it `t` seconds before the kill; 304 when already stopped. */
  async stopContainer(id: string, t: number): Promise<void> {
    // The engine answers only once the container is down: allow its grace period on top of the timeout.
    await this.call('POST', `/containers/${seg(id)}/stop`, { query: { t }, timeoutMs: this.timeoutMs + t * 1000 });
  }

  /** Removes a container (force: even when running); its named volumes stay unless `v`. */
  async removeContainer(id: string, options: { force: boolean; v: boolean }): Promise<void> {
    await this.call('DELETE', `/containers/${seg(id)}`, { query: options });
  }

  /** Networks matching `filters` (Docker-compatible list). */
  listNetworks(filters: EngineFilters): Promise<NetworkSummary[]> {
    return this.call('GET', '/networks', { query: { filters: JSON.stringify(filters) } });
  }

  /** Networks matching `filters` through Podman's libpod list, mapped to the compatible names. */
  async libpodListNetworks(filters: EngineFilters): Promise<NetworkSummary[]> {
    const list = await this.call<{ name: string; id: string; labels?: Record<string, string> | null }[] | null>('GET', '/v4.0.0/libpod/networks/json', { query: { filters: JSON.stringify(filters) } });
    return (list ?? []).map((n) => ({ Name: n.name, Id: n.id, Labels: n.labels ?? {} }));
  }

  /** Creates a network. */
  async createNetwork(body: NetworkCreateBody): Promise<void> {
    await this.call('POST', '/networks/create', { body });
  }

  /** One network by id or name. */
  inspectNetwork(idOrName: string): Promise<NetworkSummary> {
    return this.call('GET', `/networks/${seg(idOrName)}`);
  }

  /** Removes a network. */
  async removeNetwork(idOrName: string): Promise<void> {
    await this.call('DELETE', `/networks/${seg(idOrName)}`);
  }

  /** Volumes matching `filters`. */
  async listVolumes(filters: EngineFilters): Promise<VolumeSummary[]> {
    const r = await this.call<{ Volumes?: VolumeSummary[] | null } | undefined>('GET', '/volumes', { query: { filters: JSON.stringify(filters) } });
    return r?.Volumes ?? [];
  }

  /** Creates a volume; resolves what the engine answers (Docker: the existing volume for a taken name). */
  createVolume(body: { Name: string; Labels: Record<string, string>; Driver?: string; DriverOpts?: Record<string, string> }): Promise<VolumeSummary | undefined> {
    return this.call('POST', '/volumes/create', { body });
  }

  /** One volume by name. */
  inspectVolume(name: string): Promise<VolumeSummary> {
    return this.call('GET', `/volumes/${seg(name)}`);
  }

  /** Removes a volume. */
  async removeVolume(name: string): Promise<void> {
    await this.call('DELETE', `/volumes/${seg(name)}`);
  }

  /** Creates a Podman secret (libpod, file driver) holding `value`; 500 "secret name in use" when the name is taken. */
  async createSecret(name: string, value: Uint8Array): Promise<void> {
    await this.call('POST', '/v4.0.0/libpod/secrets/create', { query: { name, driver: 'file' }, body: value });
  }

  /** Names of every Podman secret. */
  async listSecretNames(): Promise<string[]> {
    const list = await this.call<{ Spec?: { Name?: string } }[] | null>('GET', '/v4.0.0/libpod/secrets/json');
    return (list ?? []).flatMap((s) => (s.Spec?.Name === undefined ? [] : [s.Spec.Name]));
  }

  /** Removes a Podman secret by name. */
  async removeSecret(name: string): Promise<void> {
    await this.call('DELETE', `/v4.0.0/libpod/secrets/${seg(name)}`);
  }

  /** One image by reference; 404 when not present. */
  inspectImage(image: string): Promise<{ Id: string }> {
    return this.call('GET', `/images/${imageSegment(image)}/json`);
  }

  /** Pulls `image`, following the progress stream to its end; rejects on an error line or after `timeoutMs`. */
  pullImage(image: string, timeoutMs: number): Promise<void> {
    return pullImageStream(this.socketPath, `/images/create${queryString(splitReference(image))}`, timeoutMs, ENGINE_AGENT);
  }
}

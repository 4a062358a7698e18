/**
 * A loopback stand-in for Keystone, Nova, Glance and Neutron that answers with the API references' own
 * samples (fixtures/openstack/, see SOURCES.md) and records every request, so tests can assert exactly
 * what the client sends. Catalog URLs are rewritten to this server: http://23.253.248.171:8774/... →
 * http://127.0.0.1:PORT/p8774/... Scenario knobs inject Nova faults in the documented fault format.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { PACKAGE_ROOT } from '../../common/paths.js';

const DIR = join(PACKAGE_ROOT, 'fixtures', 'openstack');
/** Text of one sample. */
export function sampleText(rel: string): string {
  return readFileSync(join(DIR, rel), 'utf8');
}
/** One sample, parsed. The Glance list sample as published lacks two commas; they are added back here. */
export function sample<T = Record<string, unknown>>(rel: string): T {
  const text = sampleText(rel);
  return JSON.parse(rel.startsWith('glance/') ? text.replace(/("os_hash_value": "[0-9a-f]+")\n/g, '$1,\n') : text) as T;
}

/** The project id of the password sample; the Nova endpoint path carries it. */
export const SAMPLE_PROJECT = 'a6944d763bf64ee6a275f1263fae0352';
/** The token value from the sample HTTP response (X-Subject-Token); renewals get a suffix. */
export const SAMPLE_TOKEN = 'ffe47524401e4d61adc7310f7e5b6191';

/** One request as received. */
export interface Recorded {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  body: unknown;
}

/** A Nova fault to answer with: status and the fault body. */
export interface Fault {
  status: number;
  name: string;
  message: string;
}

type Server_ = Record<string, unknown> & { id: string; name: string; status: string; metadata: Record<string, string> };

/** The running fake cloud. */
export class FakeCloud {
  readonly requests: Recorded[] = [];
  /** Servers Nova knows; start from the sample server (not ours). */
  servers: Server_[] = [];
  /** Page size of GET /servers/detail (pagination links as in the sample). */
  pageSize = 1000;
  /** Next POST /servers answers with this fault. */
  failCreate: Fault | undefined;
  /** Next server action answers with this fault. */
  failAction: Fault | undefined;
  /** Next Nova call answers 401 (token revoked). */
  rejectTokenOnce = false;
  /** Keystone answers this instead of a token. */
  failAuth: { status: number; body: unknown } | undefined;
  /** Delay every answer (timeout tests). */
  delayMs = 0;
  /** Status a created server starts in. */
  createdStatus = 'ACTIVE';
  private tokens = 0;
  private http: Server | undefined;
  port = 0;

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get authUrl(): string {
    return `${this.base}/p5000/v3`;
  }
  get novaPath(): string {
    return `/p8774/v2.1/${SAMPLE_PROJECT}`;
  }

  /** Starts on port 0. */
  async start(): Promise<void> {
    this.servers = [structuredClone(sample<{ servers: Server_[] }>('nova/servers-details-resp.json').servers[0] as Server_)];
    this.http = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.http?.listen(0, '127.0.0.1', r));
    this.port = (this.http.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.http?.closeAllConnections();
    await new Promise((r) => this.http?.close(r));
  }

  /** A server as Nova's detail sample shows it, with our overrides (metadata, status, name). */
  addServer(over: Partial<Server_>): Server_ {
    const s = { ...structuredClone(sample<{ servers: Server_[] }>('nova/servers-details-resp.json').servers[0] as Server_), id: randomUUID(), ...over } as Server_;
    this.servers.push(s);
    return s;
  }

  /** Requests other than Keystone's. */
  get novaRequests(): Recorded[] {
    return this.requests.filter((r) => !r.path.startsWith('/p5000/'));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = req.url ?? '/';
    this.requests.push({ method: req.method ?? '', path, headers: { ...req.headers } as Record<string, string | undefined>, body: raw === '' ? undefined : JSON.parse(raw) });
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      res.end(body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body));
    };
    const fault = (f: Fault): void => send(f.status, { [f.name]: { code: f.status, message: f.message } });
    const url = new URL(path, this.base);
    if (req.method === 'POST' && url.pathname === '/p5000/v3/auth/tokens') return this.auth(raw, send);
    if (!url.pathname.startsWith('/p5000/') && this.rejectTokenOnce) {
      this.rejectTokenOnce = false;
      return send(401, { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
    }
    const nova = this.novaPath;
    if (req.method === 'GET' && url.pathname === `${nova}/servers/detail`) return send(200, this.detailPage(url));
    if (req.method === 'GET' && url.pathname === `${nova}/flavors`) return send(200, sampleText('nova/flavors-list-resp.json'));
    if (req.method === 'GET' && url.pathname === '/p9292/v2/images') {
      const all = sample<{ images: { name: string }[] }>('glance/images-list-response.json');
      return send(200, { ...all, images: all.images.filter((i) => i.name === url.searchParams.get('name')) });
    }
    if (req.method === 'GET' && url.pathname === '/p9696/v2.0/networks') {
      const all = sample<{ networks: { name: string }[] }>('neutron/networks-list-response.json');
      return send(200, { networks: all.networks.filter((n) => n.name === url.searchParams.get('name')) });
    }
    if (req.method === 'POST' && url.pathname === `${nova}/servers`) {
      if (this.failCreate !== undefined) {
        const f = this.failCreate;
        this.failCreate = undefined;
        return fault(f);
      }
      const body = (JSON.parse(raw) as { server: Record<string, unknown> }).server;
      const v274 = req.headers['openstack-api-version'] === 'compute 2.74';
      const resp = sample<{ server: { id: string } }>(v274 ? 'nova/v2.74-server-create-resp.json' : 'nova/server-create-resp.json');
      const s = this.addServer({ name: String(body.name), status: this.createdStatus, metadata: (body.metadata ?? {}) as Record<string, string> });
      resp.server.id = s.id;
      return send(202, resp);
    }
    const m = /^(.*)\/servers\/([^/]+)(\/action)?$/.exec(url.pathname);
    if (m !== null && m[1] === nova) {
      const s = this.servers.find((x) => x.id === m[2]);
      if (s === undefined) return fault({ status: 404, name: 'itemNotFound', message: `Instance ${m[2]} could not be found.` });
      if (req.method === 'GET' && m[3] === undefined) return send(200, { server: s });
      if (req.method === 'DELETE' && m[3] === undefined) {
        this.servers = this.servers.filter((x) => x !== s);
        return send(204);
      }
      if (req.method === 'POST' && m[3] !== undefined) {
        if (this.failAction !== undefined) {
          const f = this.failAction;
          this.failAction = undefined;
          return fault(f);
        }
        const action = Object.keys(JSON.parse(raw) as object)[0];
        s.status = action === 'os-stop' ? 'SHUTOFF' : 'ACTIVE';
        return send(202);
      }
    }
    return fault({ status: 404, name: 'itemNotFound', message: `no route for ${req.method} ${url.pathname}` });
  }

  private auth(raw: string, send: (status: number, body?: unknown, headers?: Record<string, string>) => void): void {
    if (this.failAuth !== undefined) return send(this.failAuth.status, this.failAuth.body);
    const appCred = (JSON.parse(raw) as { auth: { identity: { methods: string[] } } }).auth.identity.methods[0] === 'application_credential';
    const text = sampleText(appCred ? 'keystone/auth-application-credential-response.json' : 'keystone/auth-password-project-scoped-response.json');
    const rewritten = text.replace(/http:\/\/23\.253\.248\.171:(\d+)/g, `${this.base}/p$1`).replace(/http:\/\/example\.com\/identity/g, `${this.base}/p5000`);
    const token = this.tokens === 0 ? SAMPLE_TOKEN : `${SAMPLE_TOKEN}-${this.tokens}`;
    // Every sample token expires at the same instant; a renewed one here lives n hours longer, as a fresh one would.
    const body = JSON.parse(rewritten) as { token: { expires_at: string } };
    body.token.expires_at = new Date(Date.parse(body.token.expires_at) + this.tokens * 3_600_000).toISOString();
    this.tokens++;
    send(201, this.tokens === 1 ? rewritten : body, { 'X-Subject-Token': token, Vary: 'X-Auth-Token' });
  }

  private detailPage(url: URL): unknown {
    const marker = url.searchParams.get('marker');
    const limit = Number(url.searchParams.get('limit') ?? this.pageSize);
    const start = marker === null ? 0 : this.servers.findIndex((s) => s.id === marker) + 1;
    const page = this.servers.slice(start, start + Math.min(limit, this.pageSize));
    const more = start + page.length < this.servers.length;
    const last = page[page.length - 1];
    // The next link points at the sample's host, as clouds behind proxies do: the client must rebase it.
    return {
      servers: page,
      ...(more && last !== undefined ? { servers_links: [{ href: `http://openstack.example.com/v2.1/6f70656e737461636b20342065766572/servers/detail?limit=${this.pageSize}&marker=${last.id}`, rel: 'next' }] } : {}),
    };
  }
}

/**
 * Keystone v3 token authentication (password or application credential). The token is cached and
 * renewed a margin before it expires, judged by an injected clock; the service catalog gives the
 * endpoints. Secrets live in private fields and are registered with the redactor.
 */
import { FoundryError } from '../../../common/errors.js';
import { sendJson, type FetchLike } from './http.js';
import type { Redactor } from './redact.js';

/** Password credentials, scoped to a project (by id, or by name and domain). */
export interface PasswordCredentials {
  type: 'password';
  username?: string;
  userId?: string;
  userDomainName?: string;
  userDomainId?: string;
  password: string;
  projectId?: string;
  projectName?: string;
  projectDomainName?: string;
  projectDomainId?: string;
}

/** Application credentials (already bound to a project), by id, or by name with the owning user. */
export interface ApplicationCredentials {
  type: 'application_credential';
  id?: string;
  name?: string;
  username?: string;
  userId?: string;
  userDomainName?: string;
  secret: string;
}

/** Either kind of credentials. */
export type OpenStackCredentials = PasswordCredentials | ApplicationCredentials;

/** One endpoint of the catalog. */
interface CatalogEndpoint {
  url: string;
  interface: string;
  region?: string;
  region_id?: string;
}
interface CatalogEntry {
  type: string;
  endpoints: CatalogEndpoint[];
}

/** Settings of a Keystone session. */
export interface KeystoneOptions {
  /** Identity v3 URL, e.g. https://keystone.example.com:5000/v3. */
  authUrl: string;
  credentials: OpenStackCredentials;
  /** Catalog interface (default public). */
  interface?: 'public' | 'internal' | 'admin';
  /** Region; the first endpoint of the interface when undefined. */
  region?: string;
  /** Renew this long before expires_at (default 5 min; at most half the token's lifetime). */
  renewBeforeMs?: number;
  /** Milliseconds since the epoch (default Date.now). */
  now?: () => number;
  fetch?: FetchLike;
  timeoutMs?: number;
}

interface CachedToken {
  token: string;
  expiresAt: number;
  /** When to renew: the margin before expiry, at most half the token's lifetime (short-lived tokens). */
  renewAt: number;
  catalog: CatalogEntry[];
}

/** The auth request body Keystone expects for these credentials. */
export function authRequestBody(c: OpenStackCredentials): unknown {
  const domain = (name: string | undefined, id: string | undefined): Record<string, string> | undefined => (id !== undefined ? { id } : name !== undefined ? { name } : undefined);
  const user = (u: { username?: string | undefined; userId?: string | undefined; userDomainName?: string | undefined; userDomainId?: string | undefined }): Record<string, unknown> =>
    u.userId !== undefined ? { id: u.userId } : { name: u.username, ...(domain(u.userDomainName, u.userDomainId) !== undefined ? { domain: domain(u.userDomainName, u.userDomainId) } : {}) };
  if (c.type === 'application_credential') {
    const ac: Record<string, unknown> = c.id !== undefined ? { id: c.id } : { name: c.name, user: user(c) };
    ac.secret = c.secret;
    return { auth: { identity: { methods: ['application_credential'], application_credential: ac } } };
  }
  const project = c.projectId !== undefined ? { id: c.projectId } : { name: c.projectName, ...(domain(c.projectDomainName, c.projectDomainId) !== undefined ? { domain: domain(c.projectDomainName, c.projectDomainId) } : {}) };
  return { auth: { identity: { methods: ['password'], password: { user: { ...user(c), password: c.password } } }, scope: { project } } };
}

/** A cached, self-renewing Keystone token and its catalog. */
export class KeystoneSession {
  readonly #credentials: OpenStackCredentials;
  readonly #redactor: Redactor;
  #cached: CachedToken | undefined;
  #inflight: Promise<CachedToken> | undefined;
  private readonly authUrl: string;
  private readonly iface: string;
  private readonly region: string | undefined;
  private readonly renewBeforeMs: number;
  private readonly now: () => number;
  private readonly fetchImpl: FetchLike;
  private readonly timeoutMs: number;
  /** How many tokens were issued (for tests and metrics). */
  issued = 0;

  constructor(options: KeystoneOptions, redactor: Redactor) {
    this.#credentials = options.credentials;
    this.#redactor = redactor;
    redactor.add(options.credentials.type === 'password' ? options.credentials.password : options.credentials.secret);
    this.authUrl = options.authUrl.replace(/\/+$/, '');
    this.iface = options.interface ?? 'public';
    this.region = options.region;
    this.renewBeforeMs = options.renewBeforeMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
    this.fetchImpl = options.fetch ?? ((url, init) => fetch(url, init));
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** A valid token, issuing a new one when none is cached or it expires within the renewal margin. */
  async token(): Promise<string> {
    return (await this.current()).token;
  }

  /** The URL of the service `type` (compute, image, network) for the configured interface and region. */
  async endpoint(type: string): Promise<string> {
    const { catalog } = await this.current();
    const entry = catalog.find((e) => e.type === type);
    const ep = entry?.endpoints.find((e) => e.interface === this.iface && (this.region === undefined || e.region_id === this.region || e.region === this.region));
    if (ep === undefined) {
      throw new FoundryError('OPENSTACK_AUTH', `the service catalog has no ${this.iface} ${type} endpoint${this.region !== undefined ? ` in region ${this.region}` : ''}`, { resource: this.authUrl, retry: 'terminal' });
    }
    return ep.url.replace(/\/+$/, '');
  }

  /** Drops the cached token (after a 401), so the next call authenticates again. */
  invalidate(): void {
    this.#cached = undefined;
  }

  private async current(): Promise<CachedToken> {
    const c = this.#cached;
    if (c !== undefined && this.now() < c.renewAt) return c;
    this.#inflight ??= this.issue().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  private async issue(): Promise<CachedToken> {
    const url = `${this.authUrl}/auth/tokens`;
    const res = await sendJson(this.fetchImpl, { method: 'POST', url, body: authRequestBody(this.#credentials) }, this.timeoutMs, this.#redactor, this.authUrl);
    if (res.status !== 201 && res.status !== 200) {
      const msg = errorMessageOf(res.json) ?? `http ${res.status}`;
      throw new FoundryError('OPENSTACK_AUTH', `keystone refused the ${this.#credentials.type.replace('_', ' ')} credentials (http ${res.status}): ${this.#redactor.scrub(msg)}`, {
        resource: this.authUrl,
        retry: res.status === 401 || res.status === 403 ? 'wait' : 'transient',
      });
    }
    const token = res.headers.get('x-subject-token');
    const body = (res.json as { token?: { expires_at?: string; issued_at?: string; catalog?: CatalogEntry[] } } | undefined)?.token;
    const expiresAt = Date.parse(body?.expires_at ?? '');
    if (token === null || token === '' || body === undefined || Number.isNaN(expiresAt)) {
      throw new FoundryError('OPENSTACK_AUTH', 'keystone answered without a token or expiry (X-Subject-Token, token.expires_at)', { resource: this.authUrl });
    }
    this.#redactor.add(token);
    this.issued++;
    // A cloud whose tokens live less than twice the margin (keystone [token] expiration) would otherwise get
    // a new token on every call: renew such tokens halfway through their life.
    const issuedAt = Date.parse(body.issued_at ?? '');
    const margin = Number.isNaN(issuedAt) ? this.renewBeforeMs : Math.min(this.renewBeforeMs, (expiresAt - issuedAt) / 2);
    this.#cached = { token, expiresAt, renewAt: expiresAt - margin, catalog: body.catalog ?? [] };
    return this.#cached;
  }
}

/** The message of an OpenStack error body: {"error": {"message"}} (Keystone) or {"<fault>": {"message"}} (Nova). */
export function errorMessageOf(json: unknown): string | undefined {
  if (json === null || typeof json !== 'object') return undefined;
  for (const v of Object.values(json as Record<string, unknown>)) {
    if (v !== null && typeof v === 'object' && typeof (v as { message?: unknown }).message === 'string') return (v as { message: string }).message;
  }
  return undefined;
}

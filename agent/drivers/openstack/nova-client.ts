/**
 * The few Nova (and Glance/Neutron look-up) calls the driver needs, on a Keystone session. A 401
 * drops the cached token and retries once; other errors become typed errors (nova-errors.ts).
 */
import { FoundryError } from '../../../common/errors.js';
import { sendJson, type ApiResponse, type FetchLike } from './http.js';
import type { KeystoneSession } from './keystone.js';
import { mapApiError } from './nova-errors.js';
import type { Redactor } from './redact.js';

/** The fields of a Nova server (GET /servers/detail) the driver reads. */
export interface NovaServer {
  id: string;
  name: string;
  status: string;
  metadata?: Record<string, string>;
  fault?: { code?: number; message?: string };
  'OS-EXT-STS:task_state'?: string | null;
  'OS-EXT-AZ:availability_zone'?: string;
  'OS-EXT-SRV-ATTR:host'?: string | null;
  flavor?: { id?: string; original_name?: string };
}

/** Microversion that added the `host` field to server create. */
export const HOST_MICROVERSION = '2.74';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Nova on a Keystone session. */
export class NovaClient {
  constructor(
    private readonly session: KeystoneSession,
    private readonly redactor: Redactor,
    private readonly fetchImpl: FetchLike,
    private readonly timeoutMs: number,
  ) {}

  /** Every server of the project, following the pagination markers of servers_links. */
  async listServers(): Promise<NovaServer[]> {
    const out: NovaServer[] = [];
    let query = '';
    for (let page = 0; page < 1000; page++) {
      const res = await this.call('compute', 'GET', `/servers/detail${query}`, 'list servers', 'servers');
      const body = res.json as { servers?: NovaServer[]; servers_links?: { rel: string; href: string }[] };
      out.push(...(body.servers ?? []));
      const next = body.servers_links?.find((l) => l.rel === 'next');
      // Rebuild the next page on our own endpoint: clouds behind proxies often advertise internal hosts.
      if (next === undefined || (body.servers ?? []).length === 0) break;
      query = new URL(next.href, 'http://x').search;
    }
    return out;
  }

  /** One server, or undefined when Nova no longer knows it. */
  async getServer(id: string, resource: string): Promise<NovaServer | undefined> {
    const res = await this.call('compute', 'GET', `/servers/${encodeURIComponent(id)}`, 'show server', resource, undefined, undefined, [404]);
    return res.status === 404 ? undefined : (res.json as { server: NovaServer }).server;
  }

  /** POST /servers; returns the new server's id. */
  async createServer(body: unknown, microversion: string | undefined, resource: string): Promise<string> {
    const res = await this.call('compute', 'POST', '/servers', 'create server', resource, body, microversion);
    const id = (res.json as { server?: { id?: string } } | undefined)?.server?.id;
    if (id === undefined) throw new FoundryError('OPENSTACK_REQUEST', `create server for ${resource}: nova answered without a server id`, { resource });
    return id;
  }

  /** DELETE /servers/{id}; a server already gone is fine. */
  async deleteServer(id: string, resource: string): Promise<void> {
    await this.call('compute', 'DELETE', `/servers/${encodeURIComponent(id)}`, 'delete server', resource, undefined, undefined, [404]);
  }

  /** POST /servers/{id}/action with {"<action>": null} (os-start, os-stop, unpause, resume, unshelve). */
  async action(id: string, action: string, resource: string): Promise<void> {
    await this.call('compute', 'POST', `/servers/${encodeURIComponent(id)}/action`, `${action} server`, resource, { [action]: null });
  }

  /** A flavor id from a flavor id or name (GET /flavors). */
  async resolveFlavor(ref: string, resource: string): Promise<string> {
    const res = await this.call('compute', 'GET', '/flavors', 'list flavors', resource);
    const flavors = (res.json as { flavors?: { id: string; name: string }[] }).flavors ?? [];
    const hit = flavors.find((f) => f.id === ref) ?? flavors.find((f) => f.name === ref);
    if (hit === undefined) throw new FoundryError('OPENSTACK_REQUEST', `flavor "${ref}" not found for ${resource}`, { resource, retry: 'wait' });
    return hit.id;
  }

  /** An image id: a UUID as is, a name through Glance (GET /v2/images?name=). */
  async resolveImage(ref: string, resource: string): Promise<string> {
    if (UUID.test(ref)) return ref;
    const res = await this.call('image', 'GET', `/v2/images?name=${encodeURIComponent(ref)}`, 'find image', resource);
    const hit = ((res.json as { images?: { id: string; name: string }[] }).images ?? []).find((i) => i.name === ref);
    if (hit === undefined) throw new FoundryError('OPENSTACK_REQUEST', `image "${ref}" not found for ${resource}`, { resource, retry: 'wait' });
    return hit.id;
  }

  /** A network id: a UUID as is, a name through Neutron (GET /v2.0/networks?name=). */
  async resolveNetwork(ref: string, resource: string): Promise<string> {
    if (UUID.test(ref)) return ref;
    const res = await this.call('network', 'GET', `/v2.0/networks?name=${encodeURIComponent(ref)}`, 'find network', resource);
    const hit = ((res.json as { networks?: { id: string; name: string }[] }).networks ?? []).find((n) => n.name === ref);
    if (hit === undefined) throw new FoundryError('OPENSTACK_REQUEST', `network "${ref}" not found for ${resource}`, { resource, retry: 'wait' });
    return hit.id;
  }

  /** One call with the token; on 401 the token is renewed and the call retried once. */
  private async call(service: string, method: 'GET' | 'POST' | 'DELETE', path: string, op: string, resource: string, body?: unknown, microversion?: string, okStatuses: number[] = []): Promise<ApiResponse> {
    for (let attempt = 0; ; attempt++) {
      const base = await this.session.endpoint(service);
      const headers: Record<string, string> = { 'X-Auth-Token': await this.session.token() };
      if (microversion !== undefined) headers['OpenStack-API-Version'] = `compute ${microversion}`;
      const res = await sendJson(this.fetchImpl, { method, url: `${base}${path}`, headers, body }, this.timeoutMs, this.redactor, resource);
      if (res.status === 401 && attempt === 0) {
        this.session.invalidate();
        continue;
      }
      if (res.status >= 400 && !okStatuses.includes(res.status)) throw mapApiError(res.status, res.json, res.text, op, resource, this.redactor);
      return res;
    }
  }
}

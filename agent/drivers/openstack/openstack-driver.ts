/**
 * The OpenStack runtime driver: VMs as Nova servers carrying our ownership in their metadata. Lists
 * the project's servers and keeps ours for this node; creates, recreates (delete + create), starts,
 * stops and deletes them. Servers without our metadata are never touched.
 */
import { FoundryError } from '../../../common/errors.js';
import type { Action, DesiredVm, ObservedResource } from '../../desired.js';
import { ownerFromLabels } from '../../labels.js';
import type { ProbeResult, RuntimeDriver } from '../driver.js';
import type { FetchLike } from './http.js';
import { KeystoneSession, type OpenStackCredentials } from './keystone.js';
import { NovaClient, type NovaServer } from './nova-client.js';
import { Redactor } from './redact.js';
import { createServerRequest, isTransitional, novaMetadataToLabels, serverToObserved, type HostTargeting, type NoNetwork } from './server-map.js';
import { compareText } from '../../../common/text-order.js';

/** Settings of the OpenStack driver. */
export interface OpenStackDriverOptions {
  /** Keystone v3 URL, e.g. https://cloud.example.com:5000/v3. */
  authUrl: string;
  credentials: OpenStackCredentials;
  interface?: 'public' | 'internal' | 'admin';
  region?: string;
  /** Renew the token this long before it expires (default 5 min). */
  renewBeforeMs?: number;
  /** `host` field with microversion 2.74 (default) or legacy "zone:host". */
  hostTargeting?: HostTargeting;
  /** Networks of a VM that names none: "none" or "auto" (microversion 2.37); unset, Nova's default at 2.1. */
  noNetwork?: NoNetwork;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  now?: () => number;
  fetch?: FetchLike;
  /** Where the driver reports what it did; messages never carry secrets. */
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

/** Converges Nova servers. */
export class OpenStackDriver implements RuntimeDriver {
  readonly name = 'openstack';
  readonly kinds = ['vm'] as const;
  readonly session: KeystoneSession;
  readonly #redactor = new Redactor();
  private readonly nova: NovaClient;
  private readonly targeting: HostTargeting;
  private readonly noNetwork: NoNetwork | undefined;
  private readonly log: (message: string, fields?: Record<string, unknown>) => void;

  constructor(options: OpenStackDriverOptions) {
    const fetchImpl = options.fetch ?? ((url, init) => fetch(url, init));
    const timeoutMs = options.timeoutMs ?? 30_000;
    this.session = new KeystoneSession({ ...options, fetch: fetchImpl, timeoutMs }, this.#redactor);
    this.nova = new NovaClient(this.session, this.#redactor, fetchImpl, timeoutMs);
    this.targeting = options.hostTargeting ?? 'microversion';
    this.noNetwork = options.noNetwork;
    const log = options.log ?? (() => undefined);
    this.log = (message, fields) => log(this.#redactor.scrub(message), fields);
  }

  /** Authenticates and finds Nova in the catalog; never throws. */
  async probe(): Promise<ProbeResult> {
    try {
      const url = new URL(await this.session.endpoint('compute'));
      return { available: true, message: `nova at ${url.origin}${url.pathname}` };
    } catch (err) {
      return { available: false, message: this.#redactor.scrub(err instanceof Error ? err.message : String(err)) };
    }
  }

  /** The project's servers whose metadata says they are ours for `node`. */
  async list(node: string): Promise<ObservedResource[]> {
    const servers = await this.nova.listServers();
    return servers
      .map((s) => serverToObserved(s, node))
      .filter((o): o is ObservedResource => o !== undefined)
      .sort((a, b) => compareText(a.id, b.id) || compareText(a.runtimeId, b.runtimeId));
  }

  /** Carries out one action; errors are FoundryErrors naming the resource, with secrets scrubbed. */
  async apply(action: Action): Promise<void> {
    try {
      await this.dispatch(action);
    } catch (err) {
      if (err instanceof FoundryError) throw err;
      throw new FoundryError('OPENSTACK_REQUEST', `${action.type} of ${action.id} failed: ${this.#redactor.scrub(String(err))}`, { resource: action.id });
    }
  }

  private async dispatch(action: Action): Promise<void> {
    const d = action.desired as DesiredVm | undefined;
    const o = action.observed;
    switch (action.type) {
      case 'noop':
        return;
      case 'create':
        return this.create(required(d, action));
      case 'recreate':
        await this.remove(required(o, action));
        return this.create(required(d, action));
      case 'start':
        return this.start(required(o, action), d);
      case 'stop':
        return this.stop(required(o, action));
      case 'remove':
        return this.remove(required(o, action));
    }
  }

  private async create(d: DesiredVm): Promise<void> {
    const os = d.spec.openstack;
    if (d.spec.driver !== 'openstack' || os === undefined) throw new FoundryError('VM_ACTION', `vm ${d.id} has no openstack settings (flavor, image)`, { resource: d.id, retry: 'terminal' });
    const refs = {
      flavorId: await this.nova.resolveFlavor(os.flavor, d.id),
      imageId: await this.nova.resolveImage(os.image, d.id),
      networkId: d.spec.network === undefined ? undefined : await this.nova.resolveNetwork(d.spec.network, d.id),
    };
    const { body, microversion } = createServerRequest(d, refs, this.targeting, this.noNetwork);
    const id = await this.nova.createServer(body, microversion, d.id);
    this.log(`created server ${d.name} for ${d.id}`, { id: d.id, server: id });
  }

  /** Starts what can be started; a server in ERROR is deleted and created again (unless no host can take it or the quota is exceeded). */
  private async start(o: ObservedResource, d: DesiredVm | undefined): Promise<void> {
    const server = await this.owned(o);
    if (server === undefined) {
      if (d !== undefined) await this.create(d);
      return;
    }
    if (server.status === 'ERROR') {
      await this.nova.deleteServer(server.id, o.id);
      const fault = server.fault?.message ?? '';
      if (/no valid host was found/i.test(fault)) {
        throw new FoundryError('OPENSTACK_NO_VALID_HOST', `server ${server.name} for ${o.id} failed to build: no compute host can take it (${this.#redactor.scrub(fault)}); deleted, will retry`, { resource: o.id });
      }
      // Nova checks the quota again when it builds (after the API accepted the request): two creates
      // close together can both pass the API's check and fail here.
      if (/quota exceeded/i.test(fault)) {
        throw new FoundryError('OPENSTACK_QUOTA', `server ${server.name} for ${o.id} failed to build: project quota exceeded (${this.#redactor.scrub(fault)}); deleted, will retry; free resources or raise the quota`, { resource: o.id });
      }
      if (d !== undefined) await this.create(d);
      return;
    }
    if (isTransitional(server)) {
      this.log(`server ${server.name} for ${o.id} is ${server.status}; waiting`, { id: o.id });
      return;
    }
    const action = { SHUTOFF: 'os-start', STOPPED: 'os-start', PAUSED: 'unpause', SUSPENDED: 'resume', SHELVED: 'unshelve', SHELVED_OFFLOADED: 'unshelve' }[server.status];
    if (action !== undefined) await this.nova.action(server.id, action, o.id);
  }

  private async stop(o: ObservedResource): Promise<void> {
    const server = await this.owned(o);
    if (server?.status === 'ACTIVE') await this.nova.action(server.id, 'os-stop', o.id);
  }

  private async remove(o: ObservedResource): Promise<void> {
    const server = await this.owned(o);
    if (server === undefined) return;
    await this.nova.deleteServer(server.id, o.id);
    this.log(`deleted server ${server.name} for ${o.id}`, { id: o.id, server: server.id });
  }

  /** The server behind `o`, re-read; undefined when gone; refuses one whose metadata is not ours. */
  private async owned(o: ObservedResource): Promise<NovaServer | undefined> {
    const server = await this.nova.getServer(o.runtimeId, o.id);
    if (server === undefined) return undefined;
    const own = ownerFromLabels(novaMetadataToLabels(server.metadata), o.owner.node);
    if (own === undefined || own.id !== o.id) {
      throw new FoundryError('VM_ACTION', `server ${o.runtimeId} does not carry our metadata for ${o.id}; leaving it untouched`, { resource: o.id, retry: 'terminal' });
    }
    return server;
  }
}

function required<T>(value: T | undefined, action: Action): T {
  if (value === undefined) throw new FoundryError('INTERNAL', `${action.type} of ${action.id} lacks desired or observed state`, { resource: action.id });
  return value;
}

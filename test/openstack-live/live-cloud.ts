/**
 * The live OpenStack of scripts/openstack-up.sh for tests and benchmarks: its clouds.yaml (clouds
 * foundry, foundry-quota with one instance allowed, foundry-admin), drivers on it, an admin view of
 * Nova to act "by hand" and to clean up, and desired VMs of the tiny image and flavor it uploads.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { specHash } from '../../common/hash.js';
import type { DesiredVm, VmSpec } from '../../agent/desired.js';
import { loadCloud } from '../../agent/drivers/openstack/clouds-yaml.js';
import { KeystoneSession } from '../../agent/drivers/openstack/keystone.js';
import { OpenStackDriver, type OpenStackDriverOptions } from '../../agent/drivers/openstack/openstack-driver.js';
import { Redactor } from '../../agent/drivers/openstack/redact.js';
import type { NovaServer } from '../../agent/drivers/openstack/nova-client.js';

/** The state dir of scripts/openstack-up.sh. */
export const OS_DIR = process.env.FOUNDRY_OS_DIR ?? '/var/lib/foundry-openstack';
export const CLOUDS = join(OS_DIR, 'clouds.yaml');
export const UP_SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'openstack-up.sh');
export const LIVE_HOW = 'run `sudo bash scripts/openstack-up.sh` (packages: see .ci/run; docs/openstack-live.md)';
/** The compute host's name (nova-compute runs with [DEFAULT] host = hostname). */
export const COMPUTE_HOST = hostname();

/**
 * True when the live cloud's clouds.yaml exists and every service runs (openstack-up.sh --check). The
 * check's two API probes may take 15 s each on a loaded machine (Nova's API is single-threaded), so it
 * gets 90 s; what it printed goes to stderr when it says no, so a CI failure shows which service.
 */
export function liveCloudUp(): boolean {
  if (!existsSync(CLOUDS)) return false;
  const r = spawnSync('bash', [UP_SCRIPT, '--check'], { encoding: 'utf8', timeout: 90_000 });
  if (r.status !== 0) process.stderr.write(`openstack-up.sh --check: ${r.error?.message ?? `exit ${r.status}`}\n${r.stdout ?? ''}${r.stderr ?? ''}\n`);
  return r.status === 0;
}

/** A driver on one cloud of the live clouds.yaml; VMs without a network get none (no Neutron networks here). */
export function liveDriver(cloud = 'foundry', extra: Partial<OpenStackDriverOptions> = {}): OpenStackDriver {
  const c = loadCloud(CLOUDS, cloud);
  return new OpenStackDriver({ authUrl: c.authUrl, credentials: c.credentials, region: c.region, noNetwork: 'none', timeoutMs: 60_000, ...extra });
}

/** Nova as one cloud's user, by default the admin (all projects): the tests' hands and eyes. */
export class NovaHands {
  readonly session: KeystoneSession;
  constructor(cloud = 'foundry-admin') {
    const c = loadCloud(CLOUDS, cloud);
    this.session = new KeystoneSession({ authUrl: c.authUrl, credentials: c.credentials }, new Redactor());
  }

  /** One call; returns status and parsed body. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Nova's JSON bodies, read field by field by the tests
  async call(method: string, path: string, body?: unknown, microversion = '2.74'): Promise<{ status: number; json: any }> {
    const base = await this.session.endpoint('compute');
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'X-Auth-Token': await this.session.token(), 'OpenStack-API-Version': `compute ${microversion}`, 'Content-Type': 'application/json', Accept: 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: text === '' ? undefined : JSON.parse(text) };
  }

  async server(id: string): Promise<(NovaServer & { 'OS-EXT-SRV-ATTR:host'?: string; 'OS-EXT-SRV-ATTR:instance_name'?: string }) | undefined> {
    const r = await this.call('GET', `/servers/${id}`);
    return r.status === 404 ? undefined : r.json.server;
  }

  /** Servers of all projects whose name starts with `prefix` (deleted ones excluded). */
  async servers(prefix: string): Promise<NovaServer[]> {
    const out: NovaServer[] = [];
    let marker = '';
    for (;;) {
      const r = await this.call('GET', `/servers/detail?all_tenants=1&name=${encodeURIComponent(`^${prefix}`)}${marker}`);
      const page = (r.json.servers ?? []) as NovaServer[];
      out.push(...page);
      if (page.length === 0 || !(r.json.servers_links ?? []).some((l: { rel: string }) => l.rel === 'next')) return out;
      marker = `&marker=${page[page.length - 1]!.id}`;
    }
  }

  /** Creates a server with no network from the tiny image; returns its id. */
  async create(name: string, metadata: Record<string, string> = {}, flavor = 'foundry.nano'): Promise<string> {
    const flavors = (await this.call('GET', '/flavors')).json.flavors as { id: string; name: string }[];
    const base = await this.session.endpoint('image');
    const images = (await (await fetch(`${base}/v2/images?name=foundry-tiny`, { headers: { 'X-Auth-Token': await this.session.token() } })).json()) as { images: { id: string }[] };
    const r = await this.call('POST', '/servers', { server: { name, imageRef: images.images[0]?.id, flavorRef: flavors.find((f) => f.name === flavor)?.id, networks: 'none', metadata } });
    if (r.status !== 202) throw new Error(`create ${name}: http ${r.status} ${JSON.stringify(r.json)}`);
    return r.json.server.id as string;
  }

  /** A server action by hand (os-stop, os-start). */
  async action(id: string, action: string): Promise<number> {
    return (await this.call('POST', `/servers/${id}/action`, { [action]: null })).status;
  }

  /** Deletes every server named with `prefix` and waits until Nova forgot them. */
  async purge(prefix: string): Promise<void> {
    for (const s of await this.servers(prefix)) await this.call('DELETE', `/servers/${s.id}`);
    await poll(async () => (await this.servers(prefix)).length === 0, 120_000, `servers ${prefix}* deleted`);
  }
}

/** Polls `fn` every `everyMs` until it returns something truthy. */
export async function poll<T>(fn: () => T | Promise<T>, ms: number, what: string, everyMs = 1000): Promise<NonNullable<T>> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A desired VM on the live cloud (tiny image and flavor of openstack-up.sh) for `node`; its server is named `${node}-${short}`. */
export function liveVm(node: string, short: string, openstack: Partial<NonNullable<VmSpec['openstack']>> = {}, run = true): DesiredVm {
  const spec: VmSpec = { driver: 'openstack', vcpus: 1, memoryBytes: undefined, disk: undefined, network: undefined, userData: undefined, hostDevices: [], gpuUuids: [], openstack: { flavor: 'foundry.nano', image: 'foundry-tiny', ...openstack } };
  return {
    kind: 'vm',
    ref: { kind: 'vm', scope: 'workspace', owner: 'acme-live', name: short },
    id: `ws.acme-live.vm.${short}`,
    name: `${node}-${short}`,
    owner: { node, workspace: 'acme-live', tenant: 'acme' },
    spec,
    specHash: specHash(spec),
    reclaimPolicy: 'Delete',
    run,
  };
}

/**
 * The Podman driver: containers, networks and volumes over the Docker-compatible API socket (Podman's
 * `podman system service`, or a Docker Engine). It lists only what carries our ownership labels for the
 * node and applies one planned action at a time; it never decides what to do.
 */
import { FoundryError } from '../../../common/errors.js';
import type { Action, DesiredContainer, DesiredNetwork, DesiredVolume, ObservedResource, ResourceKind } from '../../desired.js';
import { runtimeSecretPrefix, type ConditionReporter, type NodeCondition, type ProbeResult, type RuntimeDriver, type SecretHolder } from '../driver.js';
import { capabilitiesCondition, findHelpers } from './capabilities.js';
import { LABELS, MANAGED_BY, ownerFromLabels, ownershipLabels } from '../../labels.js';
import { compatCreateBody, libpodCreateBody } from './container-body.js';
import { EngineClient } from './engine-client.js';
import type { NetworkSummary } from './engine-types.js';
import { engineError, engineMessage, isNameConflict, isNotFound, isNotModified } from './engine-errors.js';
import { ensureImage } from './image-pull.js';
import { observeContainer, observeNetwork, observeVolume } from './observe.js';
import { PodmanEncryptedVolumes, type EncryptedVolumeDeps } from './encrypted-volumes.js';
import { pingEngine, type Flavor } from './ping.js';

/** How to reach the engine. */
export interface PodmanDriverOptions {
  /** The API socket, e.g. /run/podman/podman.sock or /var/run/docker.sock. */
  socketPath: string;
  /** Timeout of one API call, except pulls (default 60 s). */
  timeoutMs?: number;
  /** Seconds a container gets to stop before it is killed (default 10). */
  stopTimeoutS?: number;
  /** Timeout of one image pull (default 30 min). */
  pullTimeoutMs?: number;
  /** Environment Podman runs with, for where it finds its helper binaries (CONTAINERS_CONF, PATH; default: the agent's). */
  capabilityEnv?: NodeJS.ProcessEnv;
  /** How long a capability probe is reused (default 5 min). */
  capabilityProbeMs?: number;
  /** gocryptfs dirs and the in-memory keyring for encrypted workspace volumes; without them such volumes fail with a clear error. */
  encryptedVolumes?: EncryptedVolumeDeps;
}

/** The RuntimeDriver for Podman (and Docker Engine) containers, networks and volumes. */
export class PodmanDriver implements RuntimeDriver, ConditionReporter, SecretHolder {
  readonly name = 'podman';
  readonly kinds: readonly ResourceKind[] = ['network', 'volume', 'container'];
  private readonly engine: EngineClient;
  private readonly stopTimeoutS: number;
  private readonly pullTimeoutMs: number;
  private flavorCache: Flavor | undefined;
  private capabilityCache: { at: number; conditions: NodeCondition[] } | undefined;
  private readonly encrypted: PodmanEncryptedVolumes;

  constructor(private readonly options: PodmanDriverOptions) {
    this.engine = new EngineClient({ socketPath: options.socketPath, timeoutMs: options.timeoutMs ?? 60_000 });
    this.stopTimeoutS = options.stopTimeoutS ?? 10;
    this.pullTimeoutMs = options.pullTimeoutMs ?? 30 * 60_000;
    this.encrypted = new PodmanEncryptedVolumes(this.engine, options.encryptedVolumes);
  }

  /** Pings the engine (GET /_ping: fast, unlike /version which runs conmon and the OCI runtime); never throws. */
  async probe(): Promise<ProbeResult> {
    try {
      const info = await pingEngine(this.options.socketPath, this.options.timeoutMs ?? 60_000);
      this.flavorCache = info.flavor;
      return { available: true, message: `${info.flavor} ${info.version} (api ${info.apiVersion})` };
    } catch (err) {
      return { available: false, message: `${engineError(err, 'connect', this.options.socketPath).message}: start it with \`podman system service --time=0 unix://${this.options.socketPath}\`` };
    }
  }

  /**
   * PodmanCapabilities: whether this Podman can serve workspaces (netavark backend, aardvark-dns, pause
   * binary; see capabilities.ts). Read-only and cached (default 5 min); empty for Docker Engine or an
   * engine that does not answer (the Ready condition says that). Never throws.
   */
  async conditions(): Promise<NodeCondition[]> {
    const now = Date.now();
    if (this.capabilityCache !== undefined && now - this.capabilityCache.at < (this.options.capabilityProbeMs ?? 5 * 60_000)) return this.capabilityCache.conditions;
    let conditions: NodeCondition[] = [];
    try {
      if ((await this.flavor()) === 'podman') {
        const info = await this.engine.call<{ host?: { networkBackend?: string } }>('GET', '/v4.0.0/libpod/info', { timeoutMs: 10_000 });
        conditions = [capabilitiesCondition({ networkBackend: info?.host?.networkBackend, ...findHelpers(this.options.capabilityEnv ?? process.env) })];
      }
    } catch {
      // Unreachable now: probe again next time, keep nothing stale.
      this.capabilityCache = undefined;
      return [];
    }
    this.capabilityCache = { at: now, conditions };
    return conditions;
  }

  /** Our containers, networks and volumes on `node`, nothing else. */
  async list(node: string): Promise<ObservedResource[]> {
    const filters = { label: [`${LABELS.managedBy}=${MANAGED_BY}`, `${LABELS.node}=${node}`] };
    try {
      const [containers, networks, volumes] = await Promise.all([
        this.engine.listContainers(filters),
        this.listNetworks(filters),
        this.engine.listVolumes(filters),
      ]);
      const observed = [
        ...networks.map((n) => observeNetwork(n, node)),
        ...volumes.map((v) => observeVolume(v, node)),
        ...containers.map((c) => observeContainer(c, node)),
      ];
      return observed.filter((o): o is ObservedResource => o !== undefined);
    } catch (err) {
      throw engineError(err, 'list containers, networks and volumes', `node/${node}`);
    }
  }

  /** Carries out one action; throws a FoundryError naming the resource id. */
  async apply(action: Action): Promise<void> {
    if (action.type === 'noop') return;
    const d = action.desired;
    const o = action.observed;
    switch (action.kind) {
      case 'network':
        if (action.type === 'create' && d?.kind === 'network') return this.createNetwork(d);
        if (action.type === 'remove' && o !== undefined) return this.removeNetwork(o);
        break;
      case 'volume':
        if (action.type === 'create' && d?.kind === 'volume') return this.createVolume(d);
        if (action.type === 'remove' && o !== undefined) return this.removeVolume(o);
        break;
      case 'container':
        if (action.type === 'create' && d?.kind === 'container') return this.createContainer(d);
        if (action.type === 'recreate' && d?.kind === 'container' && o !== undefined) return this.recreateContainer(d, o);
        if (action.type === 'start' && o !== undefined) return this.startContainer(o);
        if (action.type === 'stop' && o !== undefined) return this.stopContainer(o);
        if (action.type === 'remove' && o !== undefined) return this.removeContainer(o);
        break;
      default:
        break;
    }
    throw new FoundryError('INTERNAL', `podman driver cannot ${action.type} a ${action.kind}`, { resource: action.id });
  }

  /** Creates Podman secret `name` unless it exists (content-addressed: an existing one holds this value). */
  async putSecret(name: string, value: Uint8Array, id: string): Promise<void> {
    if ((await this.flavor()) !== 'podman') throw new FoundryError('RUNTIME_ACTION', `${id} uses secrets, which need Podman (the Docker Engine API has no container secrets)`, { resource: id, retry: 'wait' });
    try {
      await this.engine.createSecret(name, value);
    } catch (err) {
      if (isNameConflict(err) || /secret name in use/i.test(engineMessage(err))) return;
      throw engineError(err, `create podman secret ${name}`, id);
    }
  }

  /** The Podman secrets of this node's agent (fc-secret-NODE-...). */
  async listSecrets(node: string): Promise<string[]> {
    if ((await this.flavor()) !== 'podman') return [];
    const prefix = runtimeSecretPrefix(node);
    try {
      return (await this.engine.listSecretNames()).filter((n) => n.startsWith(prefix));
    } catch (err) {
      throw engineError(err, 'list podman secrets', `node/${node}`);
    }
  }

  /** Removes a Podman secret; absent is fine. */
  async removeSecret(name: string): Promise<void> {
    try {
      await this.engine.removeSecret(name);
    } catch (err) {
      if (!isNotFound(err) && !/no such secret/i.test(engineMessage(err))) throw engineError(err, `remove podman secret ${name}`, name);
    }
  }

  /**
   * Networks carrying `filters`. On Podman through the libpod endpoint: Podman 4.3's compat /networks
   * works out every network's endpoints and costs about 80 ms per network (seconds with one network per
   * workspace); the libpod list answers in milliseconds with the same names, ids and labels.
   */
  private async listNetworks(filters: { label: string[] }): Promise<NetworkSummary[]> {
    if ((await this.flavor()) === 'docker') return this.engine.listNetworks(filters);
    return this.engine.libpodListNetworks(filters);
  }

  private async flavor(): Promise<Flavor> {
    if (this.flavorCache === undefined) {
      const info = await pingEngine(this.options.socketPath, this.options.timeoutMs ?? 60_000).catch((err: unknown) => {
        throw engineError(err, 'ping the container engine', this.options.socketPath);
      });
      this.flavorCache = info.flavor;
    }
    return this.flavorCache;
  }

  private async createNetwork(d: DesiredNetwork): Promise<void> {
    const labels = ownershipLabels(d.id, d.owner, d.specHash, d.reclaimPolicy, d.ref);
    // Podman's bridges reach each other unless isolated; Docker Engine isolates bridge networks by default.
    const options: Record<string, string> = (await this.flavor()) === 'podman' ? { isolate: 'true' } : {};
    try {
      await this.engine.createNetwork({ Name: d.name, Driver: 'bridge', Internal: d.spec.internal, Labels: labels, Options: options, CheckDuplicate: true });
    } catch (err) {
      if (!isNameConflict(err)) throw engineError(err, `create network ${d.name}`, d.id);
      // Created by an interrupted run (ours: adopt it) or by someone else (never touch it).
      const existing = await this.engine.inspectNetwork(d.name).catch((e: unknown) => {
        throw engineError(e, `inspect network ${d.name}`, d.id);
      });
      this.assertOurs(existing.Labels ?? undefined, d.owner.node, d.id, `network ${d.name}`);
    }
  }

  private async removeNetwork(o: ObservedResource): Promise<void> {
    try {
      await this.engine.removeNetwork(o.runtimeId);
    } catch (err) {
      if (!isNotFound(err)) throw engineError(err, `remove network ${o.name}`, o.id);
    }
  }

  private async createVolume(d: DesiredVolume): Promise<void> {
    // Encrypted: mounted first (with this node's key), then a local volume bound into the mount.
    const enc = await this.encrypted.prepareCreate(d);
    const labels = { ...ownershipLabels(d.id, d.owner, d.specHash, d.reclaimPolicy, d.ref), ...enc.labels };
    try {
      // Docker answers an existing name with the existing volume; Podman with a conflict.
      const v = await this.engine.createVolume({ Name: d.name, Labels: labels, ...(enc.driverOpts !== undefined ? { Driver: 'local', DriverOpts: enc.driverOpts } : {}) });
      if (v?.Labels !== undefined) this.assertOurs(v.Labels ?? undefined, d.owner.node, d.id, `volume ${d.name}`);
    } catch (err) {
      if (err instanceof FoundryError) throw err;
      if (!isNameConflict(err)) throw engineError(err, `create volume ${d.name}`, d.id);
      const existing = await this.engine.inspectVolume(d.name).catch((e: unknown) => {
        throw engineError(e, `inspect volume ${d.name}`, d.id);
      });
      this.assertOurs(existing.Labels ?? undefined, d.owner.node, d.id, `volume ${d.name}`);
    }
  }

  private async removeVolume(o: ObservedResource): Promise<void> {
    // Data is only ever deleted when the owner said so at creation.
    if (o.reclaimPolicy !== 'Delete') throw new FoundryError('INTERNAL', `refusing to remove volume ${o.name}: its reclaim policy is Retain`, { resource: o.id });
    const labels = await this.encrypted.labelsOf(o.runtimeId, o.id);
    try {
      await this.engine.removeVolume(o.runtimeId);
    } catch (err) {
      if (!isNotFound(err)) throw engineError(err, `remove volume ${o.name}`, o.id);
    }
    // Encrypted: the key is forgotten, then the mount and the cipher files go.
    await this.encrypted.destroy(o, labels);
  }

  private async createContainer(d: DesiredContainer): Promise<void> {
    await ensureImage(this.engine, d.spec, d.id, this.pullTimeoutMs);
    await this.encrypted.mountFor(d.spec.mounts, d.id);
    const id = await this.createOrAdopt(d);
    if (d.run) await this.startById(id, d.name, d.id);
  }

  /** Prepare (image) before mutating, so a failed pull leaves the old container running. */
  private async recreateContainer(d: DesiredContainer, o: ObservedResource): Promise<void> {
    await ensureImage(this.engine, d.spec, d.id, this.pullTimeoutMs);
    await this.encrypted.mountFor(d.spec.mounts, d.id);
    await this.removeContainer(o);
    const id = await this.createOrAdopt(d);
    if (d.run) await this.startById(id, d.name, d.id);
  }

  /** Creates the container; a name left by an interrupted run of ours is removed and created again. */
  private async createOrAdopt(d: DesiredContainer): Promise<string> {
    try {
      return await this.createRaw(d);
    } catch (err) {
      if (!isNameConflict(err)) throw engineError(err, `create container ${d.name}`, d.id);
    }
    const existing = await this.engine.inspectContainer(d.name).catch((e: unknown) => {
      throw engineError(e, `inspect container ${d.name}`, d.id);
    });
    const labels = existing.Config?.Labels ?? undefined;
    this.assertOurs(labels, d.owner.node, d.id, `container ${d.name}`);
    if (labels?.[LABELS.specHash] === d.specHash) return existing.Id;
    await this.removeById(existing.Id, d.name, d.id);
    try {
      return await this.createRaw(d);
    } catch (err) {
      throw engineError(err, `create container ${d.name}`, d.id);
    }
  }

  private async createRaw(d: DesiredContainer): Promise<string> {
    const flavor = await this.flavor();
    // Podman's own create endpoint is the only one of Podman 4.x that resolves CDI device names and takes secrets.
    const secrets = (d.spec.secrets ?? []).length > 0;
    if (secrets && flavor !== 'podman') throw new FoundryError('RUNTIME_ACTION', `${d.id} uses secrets, which need Podman (the Docker Engine API has no container secrets)`, { resource: d.id, retry: 'wait' });
    if ((d.spec.devices.length > 0 || secrets) && flavor === 'podman') return this.engine.libpodCreateContainer(libpodCreateBody(d));
    return this.engine.createContainer(compatCreateBody(d, { cdiViaDeviceRequests: flavor === 'docker' }));
  }

  private async startById(runtimeId: string, name: string, id: string): Promise<void> {
    try {
      await this.engine.startContainer(runtimeId);
    } catch (err) {
      if (!isNotModified(err)) throw engineError(err, `start container ${name}`, id);
    }
  }

  /** Encrypted volumes are mounted first: after a reboot the mounts are gone until the key is back. */
  private async startContainer(o: ObservedResource): Promise<void> {
    await this.encrypted.mountForContainer(o.runtimeId, o.name, o.id);
    return this.startById(o.runtimeId, o.name, o.id);
  }

  private stopContainer(o: ObservedResource): Promise<void> {
    return this.stopById(o.runtimeId, o.name, o.id);
  }

  private async stopById(runtimeId: string, name: string, id: string): Promise<void> {
    try {
      await this.engine.stopContainer(runtimeId, this.stopTimeoutS);
    } catch (err) {
      if (!isNotModified(err) && !isNotFound(err)) throw engineError(err, `stop container ${name}`, id);
    }
  }

  private removeContainer(o: ObservedResource): Promise<void> {
    return this.removeById(o.runtimeId, o.name, o.id);
  }

  /** Stops and removes a container; its volumes stay (they are resources of their own). */
  private async removeById(runtimeId: string, name: string, id: string): Promise<void> {
    await this.stopById(runtimeId, name, id);
    try {
      await this.engine.removeContainer(runtimeId, { force: true, v: false });
    } catch (err) {
      if (!isNotFound(err)) throw engineError(err, `remove container ${name}`, id);
    }
  }

  /** Throws unless `labels` say the object is ours, on this node, with this id. */
  private assertOurs(labels: Record<string, string> | undefined, node: string, id: string, what: string): void {
    const own = ownerFromLabels(labels, node);
    if (own === undefined || own.id !== id) {
      throw new FoundryError('RUNTIME_ACTION', `${what} already exists and is not managed by the agent for ${id}; rename or remove it by hand`, { resource: id, retry: 'wait' });
    }
  }
}

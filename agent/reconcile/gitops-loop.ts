/**
 * The GitOps loop assembled from the agent's configuration: the revision source, the drivers, the
 * reconciler and its triggers. The agent's one composition root (node-agent.ts) builds it and adds the hub
 * link and the telemetry tick; `foundry agent run` without a hub runs this loop alone. `syncNow` is the one entry point for "reconcile now" (the sync socket
 * uses it; the hub's sync message will too).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ResolvedAgentConfig } from '../config/load-config.js';
import { PodmanDriver } from '../drivers/podman/podman-driver.js';
import { runCommand } from '../../common/run-command.js';
import { EncryptedDirs } from '../volumes/encrypted-dirs.js';
import { VolumeKeyring } from '../volumes/keyring.js';
import type { OpenStackDriver } from '../drivers/openstack/openstack-driver.js';
import type { RuntimeDriver } from '../drivers/driver.js';
import { GitSource } from '../source/git-source.js';
import { loadOrCreateNodeIdentity } from '../secrets/node-identity.js';
import { RepoSecretResolver } from '../secrets/repo-resolver.js';
import { digestKey, SecretResolvers } from '../secrets/resolver.js';
import type { ReconcilerDeps } from './context.js';
import type { RevisionSource } from '../source/revision-source.js';
import { DirSource } from '../source/dir-source.js';
import { LocalRepoShortcut } from '../source/local-shortcut.js';
import { Reconciler, type ReconcileResult, type TriggerOptions } from './reconciler.js';
import { startPolling, startSyncServer, syncSocketPath, watchLocalRepo, type Stoppable, type SyncReply } from './triggers.js';

/** Default poll interval when neither the config nor the Cluster sets one. */
export const DEFAULT_POLL_MS = 60_000;

/** GitSource for git URLs and local git repos; DirSource for a local folder that is not a git repo. */
export function sourceFor(config: ResolvedAgentConfig): RevisionSource {
  const local = config.repo.localPath;
  if (local !== undefined && !existsSync(join(local, '.git'))) return new DirSource(join(local, config.repo.path ?? '.'));
  const git = new GitSource({ url: config.repo.url, branch: config.repo.branch, path: config.repo.path, revision: config.repo.revision, cacheDir: config.cacheDir, timeoutMs: config.repo.timeoutMs, ...hubRepoAccess(config) });
  // A local repo following a branch: skip the fetch while the branch has not moved.
  return local !== undefined && config.repo.revision === undefined ? new LocalRepoShortcut(git, local, config.repo.branch) : git;
}

/**
 * When the repo is the hub's hosted one (same origin as hub.url): the node credential as a Bearer header,
 * and the hub certificate saved at enrollment as the CA to trust (a hub with a self-signed certificate).
 */
function hubRepoAccess(config: ResolvedAgentConfig): { authHeader?: string; caFile?: string } {
  if (config.hubUrl === undefined || config.hubCredentialFile === undefined) return {};
  let sameOrigin = false;
  try {
    sameOrigin = new URL(config.repo.url).origin === new URL(config.hubUrl).origin;
  } catch {
    return {};
  }
  if (!sameOrigin) return {};
  return { authHeader: `Bearer ${readFileSync(config.hubCredentialFile, 'utf8').trim()}`, ...(config.hubCaFile === undefined ? {} : { caFile: config.hubCaFile }) };
}

/** Folder of the encrypted volumes (gocryptfs cipher dirs and their mount points) in a state dir. */
export function volumeDirOf(stateDir: string): string {
  return join(stateDir, 'volumes');
}

/**
 * The runtime drivers `config` turns on: Podman always, libvirt and OpenStack when configured (`agent run`
 * and `agent plan` share them). `keys`: the in-memory volume keys of encrypted workspace volumes and disks
 * (a fresh, empty keyring when not given: such volumes then report VOLUME_KEY_MISSING). The VM drivers'
 * code (libvirt's XML parser, the OpenStack client) is loaded only when the config turns them on.
 */
export async function buildDrivers(config: Pick<ResolvedAgentConfig, 'podman' | 'libvirt' | 'openstack' | 'stateDir'>, logger: Logger, keys: VolumeKeyring = new VolumeKeyring()): Promise<RuntimeDriver[]> {
  const encryptedVolumes = { dirs: new EncryptedDirs(runCommand, volumeDirOf(config.stateDir)), keys };
  const drivers: RuntimeDriver[] = [new PodmanDriver({ socketPath: config.podman.socketPath, stopTimeoutS: Math.ceil(config.podman.stopTimeoutMs / 1000), encryptedVolumes })];
  // VMs of driver libvirt, when the config turns them on (routed by runtimeKeyOf: vm/libvirt).
  if (config.libvirt !== undefined) {
    const { LibvirtDriver } = await import('../drivers/libvirt/libvirt-driver.js');
    drivers.push(new LibvirtDriver({ uri: config.libvirt.uri, diskDir: config.libvirt.diskDir, imageDir: config.libvirt.imageDir, shutdownTimeoutMs: config.libvirt.shutdownTimeoutMs, keys }));
  }
  if (config.openstack !== undefined) drivers.push(await openStackDriver(config.openstack, logger));
  return drivers;
}

/**
 * The secret sources of an agent with state dir `stateDir`: repo secrets decrypted with the node's key
 * (created on first use), and the digest key derived from it. `resolvers` is where the hub's workspace
 * source is added.
 */
export function buildSecretSources(stateDir: string): NonNullable<ReconcilerDeps['secrets']> {
  let identity: Promise<string> | undefined;
  const load = (): Promise<string> => {
    identity ??= loadOrCreateNodeIdentity(stateDir).then((id) => id.identity);
    // A failure (unreadable key file) is not cached: the next run tries again.
    identity.catch(() => (identity = undefined));
    return identity;
  };
  return { resolvers: new SecretResolvers([new RepoSecretResolver(load)]), digestKey: async () => digestKey(await load()) };
}

/** The reconciler for `config`, with its drivers (buildDrivers) and `extraDrivers` the caller adds. */
export async function buildReconciler(config: ResolvedAgentConfig, logger: Logger, extraDrivers: RuntimeDriver[] = [], hooks: Pick<ReconcilerDeps, 'onResult' | 'secrets' | 'metrics'> = {}, keys?: VolumeKeyring): Promise<Reconciler> {
  const verify = config.verify.mode === 'off' ? undefined : { mode: config.verify.mode, allowedSignersFile: config.verify.allowedSignersFile, keyring: config.verify.keyring };
  const [podman, ...configured] = await buildDrivers(config, logger, keys);
  return new Reconciler({ node: config.node, source: sourceFor(config), drivers: [podman!, ...configured, ...extraDrivers], stateDir: config.stateDir, verify, logger, backoff: config.retry, secrets: buildSecretSources(config.stateDir), ...hooks });
}

/** The OpenStack driver for the config's cloud; CONFIG_INVALID (naming file, cloud and key, never a secret) when the clouds.yaml is unusable. */
async function openStackDriver(os: NonNullable<ResolvedAgentConfig['openstack']>, logger: Logger): Promise<OpenStackDriver> {
  const [{ loadCloud }, { OpenStackDriver }] = await Promise.all([import('../drivers/openstack/clouds-yaml.js'), import('../drivers/openstack/openstack-driver.js')]);
  const cloud = loadCloud(os.cloudsFile, os.cloud);
  for (const warning of cloud.warnings) logger.warn({ event: 'openstack-config', file: os.cloudsFile }, warning);
  const log = logger.child({ driver: 'openstack', cloud: os.cloud });
  return new OpenStackDriver({
    authUrl: cloud.authUrl,
    credentials: cloud.credentials,
    region: cloud.region,
    interface: cloud.interface,
    hostTargeting: os.hostTargeting,
    ...(os.networks !== undefined ? { noNetwork: os.networks } : {}),
    timeoutMs: os.timeoutMs,
    log: (message, fields) => log.info(fields ?? {}, message),
  });
}

/** A running agent. */
export interface RunningAgent {
  reconciler: Reconciler;
  /** Reconciles now (or right after the current run); the sync socket and the hub call this. */
  syncNow(reason: string, options?: TriggerOptions): Promise<ReconcileResult>;
  /** Stops triggers and waits for the current run to finish. */
  stop(): Promise<void>;
}

/** Starts the loop: sync socket (one agent per state dir), first reconcile, poll timer, local watch. */
export async function startAgent(config: ResolvedAgentConfig, logger: Logger, reconciler?: Reconciler): Promise<RunningAgent> {
  reconciler ??= await buildReconciler(config, logger);
  const syncNow = (reason: string, options?: TriggerOptions): Promise<ReconcileResult> => reconciler.trigger(reason, options);
  const stoppables: Stoppable[] = [];
  stoppables.push(
    await startSyncServer(syncSocketPath(config.stateDir), async (): Promise<SyncReply> => {
      const r = await syncNow('sync', { ignoreBackoff: true });
      const ready = r.status.conditions.find((c) => c.type === 'Ready');
      return { converged: r.converged, observedRevision: r.status.observedRevision, lastAppliedRevision: r.status.lastAppliedRevision, message: ready?.message ?? '' };
    }),
  );
  void syncNow('start');
  stoppables.push(startPolling(() => config.repo.pollIntervalMs ?? reconciler.repoPollIntervalMs() ?? DEFAULT_POLL_MS, () => syncNow('poll')));
  if (config.repo.localPath !== undefined && existsSync(config.repo.localPath)) {
    stoppables.push(await watchLocalRepo(config.repo.localPath, () => void syncNow('watch')));
  }
  logger.info({ event: 'agent-started', node: config.node, stateDir: config.stateDir, watch: config.repo.localPath !== undefined }, 'agent started');
  return {
    reconciler,
    syncNow,
    stop: async () => {
      for (const s of stoppables.reverse()) await s.stop();
      // Let a run in progress finish: interrupting it is safe (kill -9 is), but a clean stop is quieter.
      while (reconciler.busy) await new Promise((r) => setTimeout(r, 20));
      for (const d of reconciler.deps.drivers) await d.close?.();
    },
  };
}

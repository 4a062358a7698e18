/**
 * The Podman side of encrypted volumes: a workspace volume is a gocryptfs directory (agent/volumes)
 * mounted before any container that uses it is created or started, handed to Podman as a local volume
 * bound to `<mount>/data`, and destroyed (after its key) on removal. Labels say which volumes are
 * encrypted, so a restarted agent finds them again without its old memory.
 */
import { FoundryError } from '../../../common/errors.js';
import type { VolumeKeyRef } from '../../../common/volumes/volume-key-ref.js';
import type { DesiredVolume, ObservedResource, RuntimeMount } from '../../desired.js';
import { LABELS, LABEL_PREFIX } from '../../labels.js';
import type { EncryptedDirs } from '../../volumes/encrypted-dirs.js';
import type { VolumeKeyring } from '../../volumes/keyring.js';
import type { EngineClient } from './engine-client.js';
import type { EngineLabels } from './engine-types.js';
import { engineError, isNotFound } from './engine-errors.js';

/** Label that marks an encrypted volume (value: its format). */
export const ENCRYPTION_LABEL = `${LABEL_PREFIX}encryption`;

/** What the Podman driver needs for encrypted volumes. */
export interface EncryptedVolumeDeps {
  dirs: EncryptedDirs;
  keys: VolumeKeyring;
}

/** The key ref of an encrypted volume from its labels; undefined for a plain volume. */
export function keyRefFromLabels(labels: EngineLabels): VolumeKeyRef | undefined {
  if (labels?.[ENCRYPTION_LABEL] !== 'gocryptfs') return undefined;
  const workspace = labels[LABELS.workspace];
  const name = labels[LABELS.name];
  if (workspace === undefined || name === undefined) return undefined;
  return { workspace, kind: 'volume', name };
}

/** Mounts and the volume-create fields for encrypted volumes, used by PodmanDriver. */
export class PodmanEncryptedVolumes {
  constructor(
    private readonly engine: EngineClient,
    private readonly deps: EncryptedVolumeDeps | undefined,
  ) {}

  /**
   * For an encrypted desired volume: mounts it (initialising it on first use) and returns the extra
   * labels and driver options of the Podman volume; {} for a plain one. Throws VOLUME_KEY_MISSING when
   * this node holds no key, RUNTIME_UNAVAILABLE when the agent runs without encrypted volume support.
   */
  async prepareCreate(d: DesiredVolume): Promise<{ labels?: Record<string, string>; driverOpts?: Record<string, string> }> {
    const enc = d.spec.encryption;
    if (enc === undefined) return {};
    const deps = this.need(d.id);
    const p = await deps.dirs.ensureMounted(d.name, deps.keys.require(enc.key, d.id), d.id);
    return { labels: { [ENCRYPTION_LABEL]: enc.format }, driverOpts: { type: 'none', o: 'bind', device: p.data } };
  }

  /** Mounts every encrypted volume among `mounts` (before a container is created or started). */
  async mountFor(mounts: readonly RuntimeMount[], resource: string): Promise<void> {
    for (const m of mounts) if (m.type === 'volume') await this.mountByName(m.source, resource);
  }

  /** Mounts the encrypted volumes of an existing container (before it is started again). */
  async mountForContainer(runtimeId: string, name: string, resource: string): Promise<void> {
    if (this.deps === undefined) return;
    const c = await this.engine.inspectContainer(runtimeId).catch((e: unknown) => {
      throw engineError(e, `inspect container ${name}`, resource);
    });
    for (const m of c.Mounts ?? []) if (m.Type === 'volume' && m.Name !== undefined) await this.mountByName(m.Name, resource);
  }

  /** After the Podman volume is gone: forget the key, unmount, delete the cipher files. */
  async destroy(o: ObservedResource, labels: EngineLabels): Promise<void> {
    const ref = keyRefFromLabels(labels);
    if (ref === undefined) return;
    const deps = this.need(o.id);
    deps.keys.forget(ref);
    await deps.dirs.destroy(o.name, o.id);
  }

  private async exists(name: string): Promise<boolean> {
    try {
      await this.engine.inspectVolume(name);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw engineError(err, `inspect volume ${name}`, name);
    }
  }

  /** Labels of a volume by name, or undefined when it does not exist (or has none). */
  async labelsOf(name: string, resource: string): Promise<EngineLabels> {
    try {
      return (await this.engine.inspectVolume(name)).Labels;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw engineError(err, `inspect volume ${name}`, resource);
    }
  }

  private async mountByName(volume: string, resource: string): Promise<void> {
    const labels = await this.labelsOf(volume, resource);
    // The engine would create a missing named volume on the fly: plain, unlabelled, on the host's disk.
    if (labels === undefined && !(await this.exists(volume))) {
      throw new FoundryError('RUNTIME_ACTION', `volume ${volume} of ${resource} does not exist (its creation failed or is pending); not creating the container, which would make a plain volume in its place`, { resource, retry: 'wait' });
    }
    const ref = keyRefFromLabels(labels);
    if (ref === undefined) return;
    const deps = this.need(resource);
    if (deps.dirs.isMounted(volume)) return;
    await deps.dirs.ensureMounted(volume, deps.keys.require(ref, resource), resource);
  }

  private need(resource: string): EncryptedVolumeDeps {
    if (this.deps === undefined) throw new FoundryError('RUNTIME_UNAVAILABLE', `${resource} needs an encrypted volume but this agent runs without encrypted volume support (gocryptfs)`, { resource });
    return this.deps;
  }
}

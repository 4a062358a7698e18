/**
 * The libvirt runtime driver: lists the domains that carry our metadata for this node and carries out
 * the planner's actions with virsh. Recreation keeps the disk overlay; removal keeps it unless the
 * reclaim policy says Delete. Domains without our metadata are never touched.
 */
import { FoundryError } from '../../../common/errors.js';
import type { Action, DesiredVm, ObservedResource } from '../../desired.js';
import { LABEL_PREFIX, ownerFromLabels, ownershipLabels } from '../../labels.js';
import type { ProbeResult, RuntimeDriver, SecretHolder } from '../driver.js';
import { withSecretFiles } from '../../secrets/cloud-init.js';
import { parseDomainXml, parseDomState, type ParsedDomain } from './domain-parse.js';
import { buildDomainXml } from './domain-xml.js';
import { runCommand, type CommandRunner } from '../../../common/run-command.js';
import { Virsh } from './virsh.js';
import { VmDisks } from './vm-disks.js';
import { DiskSecrets, passphraseOf } from './disk-secrets.js';
import type { VolumeKeyRef } from '../../../common/volumes/volume-key-ref.js';
import type { VolumeKeyring } from '../../volumes/keyring.js';
import { compareText } from '../../../common/text-order.js';

/** Settings of the libvirt driver (all optional; the defaults suit a real KVM node). */
export interface LibvirtDriverOptions {
  /** Connection URI (default qemu:///system). */
  uri?: string;
  /** Where overlays and seeds live (default /var/lib/libvirt/images/foundry). */
  diskDir?: string;
  /** The only folder base images are taken from (default /var/lib/foundry/images). */
  imageDir?: string;
  /** Domain type (default kvm). */
  domainType?: 'kvm' | 'qemu' | 'test';
  /** CPU mode (default: libvirt's); host-passthrough is what GPU guests on bare metal want, nested KVM often refuses it. */
  cpuMode?: 'host-passthrough' | 'host-model';
  /** Memory when the spec names none (default 1 GiB). */
  defaultMemoryBytes?: number;
  /** Network when the spec names none (default "default"); null: no interface. */
  defaultNetwork?: string | null;
  /** How long a guest gets to power off after `virsh shutdown` before `virsh destroy` (default 60 s). */
  shutdownTimeoutMs?: number;
  /** Poll interval while waiting for a shutdown (default 250 ms). */
  pollMs?: number;
  /** The process runner (tests may wrap it to record calls). */
  run?: CommandRunner;
  /** Parallel `virsh dumpxml` calls while listing (default 4). */
  listConcurrency?: number;
  /** The in-memory volume keys (encrypted workspace disks); without it such VMs fail with a clear error. */
  keys?: VolumeKeyring;
}

/** Metadata element that marks a domain whose disk is LUKS-encrypted. */
const DISK_ENCRYPTION = 'disk-encryption';

/** Our metadata element names are the ownership labels without their prefix. */
export function labelsToMetadata(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).map(([k, v]) => [k.startsWith(LABEL_PREFIX) ? k.slice(LABEL_PREFIX.length) : k, v]));
}

/** The reverse of labelsToMetadata. */
export function metadataToLabels(meta: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(meta).map(([k, v]) => [`${LABEL_PREFIX}${k}`, v]));
}

/** Converges libvirt domains. */
export class LibvirtDriver implements RuntimeDriver, SecretHolder {
  readonly name = 'libvirt';
  readonly kinds = ['vm'] as const;
  readonly virsh: Virsh;
  readonly disks: VmDisks;
  readonly secrets: DiskSecrets;
  private readonly keys: VolumeKeyring | undefined;
  private readonly opts: Required<Omit<LibvirtDriverOptions, 'run' | 'uri' | 'diskDir' | 'imageDir' | 'cpuMode' | 'keys'>> & Pick<LibvirtDriverOptions, 'cpuMode'>;
  private readonly secretValues = new Map<string, Uint8Array>();

  constructor(options: LibvirtDriverOptions = {}) {
    const run = options.run ?? runCommand;
    this.virsh = new Virsh(run, options.uri ?? 'qemu:///system');
    this.disks = new VmDisks(run, options.diskDir ?? '/var/lib/libvirt/images/foundry', options.imageDir);
    this.secrets = new DiskSecrets(this.virsh);
    this.keys = options.keys;
    this.opts = {
      domainType: options.domainType ?? 'kvm',
      cpuMode: options.cpuMode,
      defaultMemoryBytes: options.defaultMemoryBytes ?? 1024 ** 3,
      defaultNetwork: options.defaultNetwork === undefined ? 'default' : options.defaultNetwork,
      shutdownTimeoutMs: options.shutdownTimeoutMs ?? 60_000,
      pollMs: options.pollMs ?? 250,
      listConcurrency: options.listConcurrency ?? 4,
    };
  }

  /** Whether virsh answers on the URI; never throws. */
  async probe(): Promise<ProbeResult> {
    try {
      return { available: true, message: `${this.virsh.uri}: ${await this.virsh.version()}` };
    } catch (err) {
      return { available: false, message: `libvirt at ${this.virsh.uri} not reachable (${(err as Error).message}); install libvirt-clients and start libvirtd (scripts/host-setup.sh)` };
    }
  }

  /** Every domain whose metadata says it is ours for `node`, with its state from `virsh domstate`. */
  async list(node: string): Promise<ObservedResource[]> {
    const names = await this.virsh.listNames();
    const found = await mapLimit(names, this.opts.listConcurrency, async (name) => {
      const xml = await this.virsh.dumpXml(name);
      if (xml === undefined) return undefined; // undefined between list and dumpxml
      const dom = parseDomainXml(xml);
      const own = dom.foundry === undefined ? undefined : ownerFromLabels(metadataToLabels(dom.foundry), node, 'vm');
      if (own === undefined) return undefined;
      const state = await this.virsh.domState(name);
      if (state === undefined) return undefined;
      const observed: ObservedResource = {
        kind: 'vm',
        ref: own.ref,
        id: own.id,
        name: dom.name,
        runtimeId: dom.uuid,
        owner: own.owner,
        specHash: own.specHash,
        state: parseDomState(state),
        reclaimPolicy: own.reclaim,
        facts: { driver: 'libvirt', vcpus: String(dom.vcpus ?? ''), memoryKiB: String(dom.memoryKiB ?? '') },
      };
      return observed;
    });
    return found.filter((o): o is ObservedResource => o !== undefined).sort((a, b) => compareText(a.id, b.id));
  }

  /** Carries out one action on one VM. */
  async apply(action: Action): Promise<void> {
    const d = action.desired as DesiredVm | undefined;
    const o = action.observed;
    const need = <T>(v: T | undefined, what: string): T => {
      if (v === undefined) throw new FoundryError('INTERNAL', `${action.type} of ${action.id} without ${what} state`, { resource: action.id });
      return v;
    };
    switch (action.type) {
      case 'noop':
        return;
      case 'create':
        return this.create(need(d, 'desired'));
      case 'recreate':
        return this.recreate(need(d, 'desired'), need(o, 'observed'));
      case 'start':
        return this.startVm(need(o, 'observed'));
      case 'stop':
        return this.stopGracefully(need(o, 'observed').name, action.id);
      case 'remove':
        return this.remove(need(o, 'observed'));
    }
  }

  /** Defines and (when it should run) starts a VM; a leftover domain of ours with that name is recreated in place. */
  private async create(d: DesiredVm): Promise<void> {
    const existing = await this.ownedDomain(d.name, d.owner.node, d.id);
    if (existing !== undefined) await this.stopGracefully(d.name, d.id);
    await this.defineAndStart(d, existing?.uuid);
  }

  /** Disk and seed first (fail before disrupting anything), then graceful stop, redefine, start. */
  private async recreate(d: DesiredVm, o: ObservedResource): Promise<void> {
    const current = await this.ownedDomain(o.name, o.owner.node, o.id);
    const xml = await this.prepare(d, o.name === d.name ? current?.uuid : undefined);
    if (current !== undefined) {
      await this.stopGracefully(o.name, d.id);
      if (o.name !== d.name) await this.virsh.undefine(o.name, d.id);
    }
    await this.virsh.define(xml, d.id);
    if (d.run) await this.virsh.start(d.name, d.id);
  }

  private async defineAndStart(d: DesiredVm, uuid: string | undefined): Promise<void> {
    const xml = await this.prepare(d, uuid);
    await this.virsh.define(xml, d.id);
    if (d.run) await this.virsh.start(d.name, d.id);
  }

  /**
   * Secret values for the next VM create (cloud-init write_files of its seed): kept in memory only until
   * the seed is written. Nothing persists in libvirt, so there is nothing to list or prune.
   */
  async putSecret(name: string, value: Uint8Array): Promise<void> {
    this.secretValues.set(name, value);
  }

  /** Nothing: secrets live only in the seed ISO, rebuilt at each create. */
  async listSecrets(): Promise<string[]> {
    return [];
  }

  /** Forgets a value not yet written. */
  async removeSecret(name: string): Promise<void> {
    this.secretValues.delete(name);
  }

  /** The template's user data with the VM's secrets as write_files (only the secrets it lists). */
  private userDataOf(d: DesiredVm): string | undefined {
    const files = (d.spec.secrets ?? []).map((s) => {
      const value = s.runtimeName === undefined ? undefined : this.secretValues.get(s.runtimeName);
      if (value === undefined || s.file === undefined) throw new FoundryError('SECRET_UNAVAILABLE', `secret ${s.name} of ${d.id} was not resolved before create`, { resource: d.id });
      return { path: s.file, permissions: s.permissions ?? '0400', content: value };
    });
    try {
      return withSecretFiles(d.spec.userData, files);
    } catch (err) {
      throw new FoundryError('VM_ACTION', `${d.id}: ${err instanceof Error ? err.message : String(err)}`, { resource: d.id, retry: 'terminal' });
    } finally {
      for (const s of d.spec.secrets ?? []) if (s.runtimeName !== undefined) this.secretValues.delete(s.runtimeName);
    }
  }

  /** Creates the overlay (when missing) and the seed, and returns the domain XML. */
  private async prepare(d: DesiredVm, uuid: string | undefined): Promise<string> {
    if (d.spec.driver !== 'libvirt') throw new FoundryError('INTERNAL', `vm ${d.id} has driver ${d.spec.driver}, not libvirt`, { resource: d.id });
    const diskSecretUuid = d.spec.disk !== undefined ? await this.prepareDisk(d, d.spec.disk) : undefined;
    const userData = this.userDataOf(d);
    const seed = userData !== undefined ? await this.disks.writeSeed(d.id, d.name, userData) : undefined;
    return buildDomainXml({
      name: d.name,
      uuid,
      domainType: this.opts.domainType,
      cpuMode: this.opts.cpuMode,
      vcpus: d.spec.vcpus,
      memoryBytes: d.spec.memoryBytes ?? this.opts.defaultMemoryBytes,
      diskPath: d.spec.disk !== undefined ? this.disks.overlayPath(d.id) : undefined,
      diskSecretUuid,
      seedPath: seed,
      network: d.spec.network ?? this.opts.defaultNetwork ?? undefined,
      hostDevices: d.spec.hostDevices,
      metadata: { ...labelsToMetadata(ownershipLabels(d.id, d.owner, d.specHash, d.reclaimPolicy, d.ref)), ...(diskSecretUuid !== undefined ? { [DISK_ENCRYPTION]: 'luks' } : {}) },
    });
  }

  /**
   * The overlay, and for an encrypted disk its libvirt secret; returns the secret's uuid (undefined: plain
   * disk). A disk created plain before its template was encrypted stays plain (its data is not rewritten).
   */
  private async prepareDisk(d: DesiredVm, disk: NonNullable<DesiredVm['spec']['disk']>): Promise<string | undefined> {
    const enc = d.spec.diskEncryption;
    if (enc === undefined || (await this.disks.overlayEncrypted(d.id)) === false) {
      await this.disks.ensureOverlay(d.id, disk.baseImage, disk.sizeBytes);
      return undefined;
    }
    const key = this.needKeys(d.id).require(enc.key, d.id);
    await this.disks.ensureOverlay(d.id, disk.baseImage, disk.sizeBytes, passphraseOf(key));
    return this.secrets.ensure(enc.key, key, this.disks.overlayPath(d.id), d.id);
  }

  /** The key ref of an encrypted disk from the domain's metadata (workspace, declared name); undefined for a plain one. */
  private diskKeyOf(dom: ParsedDomain): VolumeKeyRef | undefined {
    const m = dom.foundry;
    if (m?.[DISK_ENCRYPTION] !== 'luks' || m.workspace === undefined || m.name === undefined) return undefined;
    return { workspace: m.workspace, kind: 'vm-disk', name: m.name };
  }

  private needKeys(resource: string): VolumeKeyring {
    if (this.keys === undefined) throw new FoundryError('RUNTIME_UNAVAILABLE', `${resource} has an encrypted disk but this agent runs without volume keys`, { resource });
    return this.keys;
  }

  /** Starts a stopped VM, resumes a paused one. */
  private async startVm(o: ObservedResource): Promise<void> {
    const dom = await this.ownedDomain(o.name, o.owner.node, o.id);
    if (dom === undefined) throw new FoundryError('VM_ACTION', `domain ${o.name} of ${o.id} disappeared before start`, { resource: o.id });
    const state = parseDomState((await this.virsh.domState(o.name)) ?? '');
    if (state === 'running') return;
    // An ephemeral secret is gone after a libvirtd restart or a reboot: define it again from the key.
    const ref = this.diskKeyOf(dom);
    if (ref !== undefined) await this.secrets.ensure(ref, this.needKeys(o.id).require(ref, o.id), this.disks.overlayPath(o.id), o.id);
    if (state === 'paused') return this.virsh.resume(o.name, o.id);
    await this.virsh.start(o.name, o.id);
  }

  /** Graceful stop, undefine, then the seed (and the disk with reclaim Delete). */
  private async remove(o: ObservedResource): Promise<void> {
    const current = await this.ownedDomain(o.name, o.owner.node, o.id);
    if (current !== undefined) {
      await this.stopGracefully(o.name, o.id);
      await this.virsh.undefine(o.name, o.id);
    }
    const ref = current !== undefined ? this.diskKeyOf(current) : o.owner.workspace !== undefined && o.ref !== undefined ? ({ workspace: o.owner.workspace, kind: 'vm-disk', name: o.ref.name } as const) : undefined;
    if (ref !== undefined) {
      // The key first: libvirt's copy, then (reclaim Delete) the agent's, then the disk.
      await this.secrets.remove(ref, o.id);
      if (o.reclaimPolicy === 'Delete') this.keys?.forget(ref);
    }
    this.disks.remove(o.id, o.reclaimPolicy === 'Delete');
  }

  /** `virsh shutdown`, wait up to the timeout for "shut off", then `virsh destroy`. No-op when not running. */
  async stopGracefully(name: string, id: string): Promise<void> {
    const state = async (): Promise<string> => parseDomState((await this.virsh.domState(name)) ?? 'shut off');
    let now = await state();
    if (now === 'stopped') return;
    if (now === 'running') {
      await this.virsh.shutdown(name, id).catch(() => undefined); // a guest without ACPI refuses: destroy below
      const deadline = Date.now() + this.opts.shutdownTimeoutMs;
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, this.opts.pollMs));
        now = await state();
        if (now === 'stopped') return;
      }
    }
    await this.virsh.destroy(name, id).catch(async (err: unknown) => {
      if ((await state()) !== 'stopped') throw err; // it powered off in between: fine
    });
  }

  /** The domain called `name` when it is ours (node and id match); undefined when absent; throws when someone else's. */
  private async ownedDomain(name: string, node: string, id: string): Promise<ParsedDomain | undefined> {
    const xml = await this.virsh.dumpXml(name);
    if (xml === undefined) return undefined;
    const dom = parseDomainXml(xml);
    const own = dom.foundry === undefined ? undefined : ownerFromLabels(metadataToLabels(dom.foundry), node);
    if (own === undefined || own.id !== id) {
      throw new FoundryError('VM_ACTION', `domain ${name} exists but was not created by the agent for ${id}; leaving it untouched (rename the vm or remove that domain by hand)`, { resource: id, retry: 'wait' });
    }
    return dom;
  }
}

/** Maps with at most `limit` promises in flight, keeping order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

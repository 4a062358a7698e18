/**
 * The agent's volume keys, in memory only: filled by the hub (over the link, decrypted with the node's
 * age identity), asked for by the drivers, forgotten (buffers zeroed) when a volume is destroyed. A
 * restart starts empty and the hub delivers again; a key the drivers miss is remembered as wanted so the
 * link can ask for it.
 */
import { FoundryError } from '../../common/errors.js';
import { volumeKeyId, type VolumeKeyRef } from '../../common/volumes/volume-key-ref.js';

/** In-memory volume keys of this node. */
export class VolumeKeyring {
  private readonly keys = new Map<string, { ref: VolumeKeyRef; key: Buffer }>();
  private readonly missing = new Map<string, VolumeKeyRef>();
  /** Why the hub refused a key, shown in the resource's error until the key comes. */
  private readonly refusals = new Map<string, string>();
  private readonly listeners: ((refs: VolumeKeyRef[]) => void)[] = [];

  /** Stores a key (a copy); a wanted ref is no longer wanted. */
  set(ref: VolumeKeyRef, key: Buffer): void {
    const id = volumeKeyId(ref);
    this.keys.get(id)?.key.fill(0);
    this.keys.set(id, { ref, key: Buffer.from(key) });
    this.missing.delete(id);
    this.refusals.delete(id);
  }

  /** Records why the key of `ref` was not delivered; the next require asks again. */
  refuse(ref: VolumeKeyRef, reason: string): void {
    const id = volumeKeyId(ref);
    this.missing.delete(id);
    this.refusals.set(id, reason);
  }

  /** The key of `ref`, or undefined. */
  get(ref: VolumeKeyRef): Buffer | undefined {
    return this.keys.get(volumeKeyId(ref))?.key;
  }

  /**
   * The key of `ref`; otherwise records it as wanted, tells the listeners, and throws VOLUME_KEY_MISSING
   * naming `resource` (retry class wait: the hub delivers it, or the workload is not placed here).
   */
  require(ref: VolumeKeyRef, resource: string): Buffer {
    const key = this.get(ref);
    if (key !== undefined) return key;
    const id = volumeKeyId(ref);
    if (!this.missing.has(id)) {
      this.missing.set(id, ref);
      for (const l of this.listeners) l([ref]);
    }
    const refusal = this.refusals.get(id);
    const why = refusal ?? 'the hub gives keys only to the node a workspace is placed on; waiting for it';
    throw new FoundryError('VOLUME_KEY_MISSING', `this node holds no key for ${ref.kind} ${ref.name} of workspace ${ref.workspace}: ${why}`, {
      resource,
      details: { workspace: ref.workspace, volume: ref.name, keyKind: ref.kind },
    });
  }

  /** Refs asked for and not delivered yet. */
  wanted(): VolumeKeyRef[] {
    return [...this.missing.values()];
  }

  /** Calls `fn` with refs that become wanted. */
  onWanted(fn: (refs: VolumeKeyRef[]) => void): void {
    this.listeners.push(fn);
  }

  /** Zeroes and drops the key of `ref`. */
  forget(ref: VolumeKeyRef): void {
    const id = volumeKeyId(ref);
    this.keys.get(id)?.key.fill(0);
    this.keys.delete(id);
    this.missing.delete(id);
    this.refusals.delete(id);
  }

  /** Zeroes and drops every key of `workspace` (the hub destroyed them); returns how many. */
  forgetWorkspace(workspace: string): number {
    let n = 0;
    for (const { ref } of [...this.keys.values()]) {
      if (ref.workspace !== workspace) continue;
      this.forget(ref);
      n++;
    }
    return n;
  }

  /** Number of keys held. */
  size(): number {
    return this.keys.size;
  }
}

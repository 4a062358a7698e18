/**
 * The identity of one volume key, shared by hub and agent: the workspace, what the key encrypts (a named
 * container volume or a VM's disk) and its declared name. Keys are one per volume; the string form is a
 * map key and a label value only, never parsed back (the protocol carries the fields).
 */

/** What a volume key encrypts. */
export type VolumeKeyKind = 'volume' | 'vm-disk';

/** One volume key's identity. */
export interface VolumeKeyRef {
  workspace: string;
  kind: VolumeKeyKind;
  /** The declared name: the volume's name in the template, or the VM's name. */
  name: string;
}

/** The map key of a ref, e.g. `acme-alice/volume/models`. */
export function volumeKeyId(ref: VolumeKeyRef): string {
  return `${ref.workspace}/${ref.kind}/${ref.name}`;
}

/** Length of every volume key in bytes (256 bits of randomness). */
export const VOLUME_KEY_BYTES = 32;

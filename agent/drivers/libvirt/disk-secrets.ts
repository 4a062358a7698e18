/**
 * The libvirt side of encrypted VM disks: one libvirt secret per disk key, defined `ephemeral='yes'`
 * (never written to libvirt's disk) and `private='yes'` (libvirt never hands the value back), holding
 * the LUKS passphrase QEMU opens the qcow2 with. Defined again before every define or start, because
 * an ephemeral secret is gone after a libvirtd restart; undefined when the VM is removed.
 */
import { createHash } from 'node:crypto';
import { volumeKeyId, type VolumeKeyRef } from '../../../common/volumes/volume-key-ref.js';
import { withKeyFile } from '../../volumes/key-file.js';
import { escapeXml } from './domain-xml.js';
import type { Virsh } from './virsh.js';

/** A stable uuid per key ref, so a redefinition replaces the secret instead of adding one. */
export function secretUuidFor(ref: VolumeKeyRef): string {
  const h = createHash('sha256').update(`foundry-volume-key:${volumeKeyId(ref)}`).digest('hex');
  // RFC 4122 layout, version 8 (custom), variant bits 10.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

/** The secret's XML: ephemeral and private, its usage the disk file (libvirt allows one secret per usage). */
export function secretXml(uuid: string, diskPath: string, ref: VolumeKeyRef): string {
  return [
    "<secret ephemeral='yes' private='yes'>",
    `  <uuid>${uuid}</uuid>`,
    `  <description>foundry disk key ${escapeXml(volumeKeyId(ref))}</description>`,
    "  <usage type='volume'>",
    `    <volume>${escapeXml(diskPath)}</volume>`,
    '  </usage>',
    '</secret>',
    '',
  ].join('\n');
}

/** The passphrase QEMU's LUKS layer gets for a key: its base64 text (the same bytes for qemu-img and libvirt). */
export function passphraseOf(key: Buffer): string {
  return key.toString('base64');
}

/** Defines and removes the libvirt secrets of encrypted disks. */
export class DiskSecrets {
  constructor(private readonly virsh: Virsh) {}

  /** Defines the secret of `ref` for `diskPath` and sets its value; returns its uuid. Idempotent. */
  async ensure(ref: VolumeKeyRef, key: Buffer, diskPath: string, resource: string): Promise<string> {
    const uuid = secretUuidFor(ref);
    await this.virsh.secretDefine(secretXml(uuid, diskPath, ref), resource);
    await withKeyFile(passphraseOf(key), resource, (file) => this.virsh.secretSetValue(uuid, file, resource));
    return uuid;
  }

  /** Undefines the secret of `ref` (no-op when libvirt has none). */
  async remove(ref: VolumeKeyRef, resource: string): Promise<void> {
    await this.virsh.secretUndefine(secretUuidFor(ref), resource);
  }
}

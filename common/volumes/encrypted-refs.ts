/**
 * Which volume keys a workspace's template calls for: one per named volume (unless the template or a
 * mount of it says `encryption: none`) and one for a libvirt VM's disk. The agent's render and the hub's
 * key service both ask this one function, so they never disagree about what is encrypted.
 */
import type { WorkspaceTemplate } from '../infra/model.js';
import { volumeKeyId, type VolumeKeyRef } from './volume-key-ref.js';
import { compareText } from '../text-order.js';

/** True when a named volume `name` of the template is encrypted. */
export function volumeEncrypted(template: WorkspaceTemplate, name: string): boolean {
  if (template.spec.encryption === 'none') return false;
  return !(template.spec.containers ?? []).some((c) => (c.volumes ?? []).some((v) => v.name === name && v.encryption === 'none'));
}

/** True when the template's VM disk is encrypted (libvirt VMs with a disk; OpenStack volumes are Nova's). */
export function vmDiskEncrypted(template: WorkspaceTemplate): boolean {
  const vm = template.spec.vm;
  return template.spec.encryption !== 'none' && vm !== undefined && vm.driver === 'libvirt' && vm.disk !== undefined;
}

/** Every volume key a workspace of `template` needs, sorted by id. */
export function encryptedKeyRefs(workspace: string, template: WorkspaceTemplate): VolumeKeyRef[] {
  const names = new Set((template.spec.containers ?? []).flatMap((c) => (c.volumes ?? []).flatMap((v) => (v.name === undefined ? [] : [v.name]))));
  const refs: VolumeKeyRef[] = [...names].filter((n) => volumeEncrypted(template, n)).map((name) => ({ workspace, kind: 'volume', name }));
  const vm = template.spec.vm;
  if (vm !== undefined && vmDiskEncrypted(template)) refs.push({ workspace, kind: 'vm-disk', name: vm.name });
  return refs.sort((a, b) => compareText(volumeKeyId(a), volumeKeyId(b)));
}

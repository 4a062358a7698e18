/** VmDisks.ensureOverlay takes base images only from its image folder, whatever the revision says (defence in depth). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VmDisks } from './vm-disks.js';
import { runCommand, type CommandRunner } from '../../../common/run-command.js';

let root: string;
let images: string;
let calls: string[][];
let disks: VmDisks;
const recording: CommandRunner = (cmd, args, opts) => {
  calls.push([cmd, ...args]);
  return runCommand(cmd, args, opts);
};

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'foundry-vm-disks-'));
  images = join(root, 'images');
  mkdirSync(images);
  writeFileSync(join(images, 'ubuntu.qcow2'), 'not really qcow2');
  writeFileSync(join(root, 'secret'), 'root:x:0:0');
  symlinkSync(join(root, 'secret'), join(images, 'escape.qcow2'));
  calls = [];
  disks = new VmDisks(recording, join(root, 'disks'), images);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('VmDisks base images', () => {
  it('resolves a plain name and a path inside the image folder', () => {
    expect(disks.resolveBaseImage('vm', 'ubuntu.qcow2')).toBe(join(images, 'ubuntu.qcow2'));
    expect(disks.resolveBaseImage('vm', join(images, 'ubuntu.qcow2'))).toBe(join(images, 'ubuntu.qcow2'));
  });

  it('refuses host files, traversal and links out of the folder before qemu-img runs', async () => {
    const cases: Array<[string, string]> = [
      ['/etc/shadow', 'it is outside the image folder'],
      [`${images}/../secret`, "the path has '.' or '..' segments"],
      ['../secret', 'not a plain file name'],
      ['escape.qcow2', `it is outside the image folder (resolves to ${join(root, 'secret')})`],
    ];
    for (const [base, why] of cases) {
      await expect(disks.ensureOverlay('ws.a.vm.x', base, undefined), base).rejects.toMatchObject({ code: 'IMAGE_REFUSED', message: `base image ${base} refused: ${why}; expected a file in ${images} (agent config libvirt.imageDir)` });
    }
    expect(calls).toEqual([]);
  });

  it('says a missing image is missing (wait), not refused', async () => {
    await expect(disks.ensureOverlay('ws.a.vm.x', 'nope.qcow2', undefined)).rejects.toMatchObject({ code: 'IMAGE_MISSING' });
  });
});

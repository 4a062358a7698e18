/**
 * The files behind a libvirt VM, all in one disk dir and named from the resource id: the qcow2 overlay
 * on the base image (kept across recreation) and the cloud-init NoCloud seed ISO (rebuilt each time).
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FoundryError } from '../../../common/errors.js';
import type { CommandRunner } from './process-runner.js';

/** Tools that build an ISO 9660 image with the same mkisofs arguments, tried in order. */
const ISO_TOOLS = ['genisoimage', 'mkisofs', 'xorrisofs'];

/** A file name from a resource id: safe characters kept, anything else replaced and the name made unique with a hash. */
export function fileBaseFor(id: string): string {
  const safe = id.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return safe === id ? id : `${safe}-${createHash('sha256').update(id).digest('hex').slice(0, 8)}`;
}

/** The cloud-init NoCloud meta-data: a stable instance id (so a recreation is not a first boot) and the host name. */
export function metaDataFor(id: string, hostname: string): string {
  return `instance-id: ${JSON.stringify(id)}\nlocal-hostname: ${JSON.stringify(hostname)}\n`;
}

/** Creates and removes VM disk files in `dir`. */
export class VmDisks {
  constructor(
    private readonly run: CommandRunner,
    readonly dir: string,
  ) {}

  /** Path of the overlay disk of resource `id`. */
  overlayPath(id: string): string {
    return join(this.dir, `${fileBaseFor(id)}.qcow2`);
  }

  /** Path of the NoCloud seed of resource `id`. */
  seedPath(id: string): string {
    return join(this.dir, `${fileBaseFor(id)}.seed.iso`);
  }

  /** Creates the overlay on `baseImage` unless it exists (an existing disk is kept, whatever its base). Returns true when created. */
  async ensureOverlay(id: string, baseImage: string, sizeBytes: number | undefined): Promise<boolean> {
    const overlay = this.overlayPath(id);
    if (existsSync(overlay)) return false;
    if (!existsSync(baseImage)) throw new FoundryError('IMAGE_MISSING', `base image ${baseImage} not found on this node`, { resource: id });
    mkdirSync(this.dir, { recursive: true });
    const args = ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', baseImage, overlay, ...(sizeBytes !== undefined ? [String(sizeBytes)] : [])];
    await this.mustRun('qemu-img', args, id);
    return true;
  }

  /** Writes the NoCloud seed ISO (volume label cidata) with user-data and meta-data; returns its path. */
  async writeSeed(id: string, hostname: string, userData: string): Promise<string> {
    mkdirSync(this.dir, { recursive: true });
    const work = mkdtempSync(join(tmpdir(), 'foundry-seed-'));
    try {
      // User data may carry credentials: only root (and libvirt, which relabels it for qemu) may read it.
      writeFileSync(join(work, 'user-data'), userData, { mode: 0o600 });
      writeFileSync(join(work, 'meta-data'), metaDataFor(id, hostname), { mode: 0o600 });
      const seed = this.seedPath(id);
      const args = ['-quiet', '-output', seed, '-volid', 'cidata', '-joliet', '-rock', join(work, 'user-data'), join(work, 'meta-data')];
      for (const tool of ISO_TOOLS) {
        try {
          await this.mustRun(tool, args, id);
          chmodSync(seed, 0o600);
          return seed;
        } catch (err) {
          if (!(err instanceof FoundryError && err.details?.missing === true)) throw err;
        }
      }
      throw new FoundryError('RUNTIME_UNAVAILABLE', `cannot build the cloud-init seed: none of ${ISO_TOOLS.join(', ')} is installed (apt-get install genisoimage)`, { resource: id });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  /** Removes the seed, and the overlay too when `deleteDisk`. */
  remove(id: string, deleteDisk: boolean): void {
    rmSync(this.seedPath(id), { force: true });
    if (deleteDisk) rmSync(this.overlayPath(id), { force: true });
  }

  private async mustRun(command: string, args: string[], id: string): Promise<void> {
    let r;
    try {
      r = await this.run(command, args, { timeoutMs: 120_000 });
    } catch (cause) {
      const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
      throw new FoundryError('RUNTIME_UNAVAILABLE', `cannot run ${command}: ${missing ? 'not installed' : (cause as Error).message}`, { resource: id, cause, details: { missing } });
    }
    if (r.code !== 0) throw new FoundryError('VM_ACTION', `${command} failed for ${id}: ${r.stderr.trim() || `exit ${r.code}`}`, { resource: id });
  }
}

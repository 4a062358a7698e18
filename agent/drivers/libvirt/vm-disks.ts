/**
 * The files behind a libvirt VM, all in one disk dir and named from the resource id: the qcow2 overlay
 * on the base image (kept across recreation) and the cloud-init NoCloud seed ISO (rebuilt each time).
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { FoundryError } from '../../../common/errors.js';
import { withKeyFile } from '../../volumes/key-file.js';
import type { CommandRunner } from '../../../common/run-command.js';

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

/** `qemu-img create` arguments up to the backing options for a LUKS-encrypted qcow2 whose passphrase is in `keyFile`. */
export function encryptedCreateArgs(keyFile: string): string[] {
  return ['create', '-q', '--object', `secret,id=disk-key,file=${keyFile}`, '-f', 'qcow2', '-o', 'encrypt.format=luks,encrypt.key-secret=disk-key'];
}

/** What `qemu-img info --output=json` says about an image that the agent reads. */
export function parseImageInfo(json: string): { format: string; encrypted: boolean } {
  const info = JSON.parse(json) as { format?: unknown; encrypted?: unknown };
  return { format: typeof info.format === 'string' ? info.format : 'unknown', encrypted: info.encrypted === true };
}

/** Default folder base images are taken from (agent config libvirt.imageDir). */
export const DEFAULT_IMAGE_DIR = '/var/lib/foundry/images';

/** Creates and removes VM disk files in `dir`; base images come only from `imageDir`. */
export class VmDisks {
  constructor(
    private readonly run: CommandRunner,
    readonly dir: string,
    readonly imageDir: string = DEFAULT_IMAGE_DIR,
  ) {}

  /**
   * The real path of a base image: a plain name in imageDir, or an absolute path that lies in imageDir
   * once links are resolved. Anything else (another host file such as /etc/shadow, '..', a link out of
   * the folder) is refused, whatever validation said: the infra repo is not trusted with host files.
   */
  resolveBaseImage(id: string, baseImage: string): string {
    const refuse = (why: string): never => {
      throw new FoundryError('IMAGE_REFUSED', `base image ${baseImage} refused: ${why}; expected a file in ${this.imageDir} (agent config libvirt.imageDir)`, { resource: id });
    };
    if (!isAbsolute(baseImage) && !/^[A-Za-z0-9_][A-Za-z0-9._+-]*$/.test(baseImage)) refuse('not a plain file name');
    const candidate = isAbsolute(baseImage) ? baseImage : join(this.imageDir, baseImage);
    if (candidate.split('/').some((s) => s === '..' || s === '.')) refuse("the path has '.' or '..' segments");
    if (!existsSync(candidate)) throw new FoundryError('IMAGE_MISSING', `base image ${baseImage} not found on this node`, { resource: id });
    let dir: string;
    try {
      dir = realpathSync(this.imageDir);
    } catch {
      return refuse('the image folder does not exist');
    }
    const real = realpathSync(candidate);
    const rel = relative(dir, real);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) refuse(`it is outside the image folder${real === candidate ? '' : ` (resolves to ${real})`}`);
    return real;
  }

  /** Path of the overlay disk of resource `id`. */
  overlayPath(id: string): string {
    return join(this.dir, `${fileBaseFor(id)}.qcow2`);
  }

  /** Path of the NoCloud seed of resource `id`. */
  seedPath(id: string): string {
    return join(this.dir, `${fileBaseFor(id)}.seed.iso`);
  }

  /**
   * Creates the overlay on `baseImage` (see resolveBaseImage) unless it exists (an existing disk is kept,
   * whatever its base). With `passphrase`, the overlay is LUKS-encrypted (qcow2's own encryption, done by
   * QEMU in user space); the passphrase reaches qemu-img through a RAM file, never argv. Returns true when created.
   */
  async ensureOverlay(id: string, baseImage: string, sizeBytes: number | undefined, passphrase?: string): Promise<boolean> {
    const overlay = this.overlayPath(id);
    if (existsSync(overlay)) return false;
    const base = this.resolveBaseImage(id, baseImage);
    mkdirSync(this.dir, { recursive: true });
    const tail = ['-F', 'qcow2', '-b', base, overlay, ...(sizeBytes !== undefined ? [String(sizeBytes)] : [])];
    if (passphrase === undefined) {
      await this.mustRun('qemu-img', ['create', '-q', '-f', 'qcow2', ...tail], id);
    } else {
      await withKeyFile(passphrase, id, async (file) => {
        // LUKS times its key derivation on the CPU first; on a loaded machine qemu-img sometimes gives up with
        // "Unable to get accurate CPU usage" before writing anything: that one failure is retried (twice).
        for (let attempt = 1; ; attempt++) {
          try {
            return await this.mustRun('qemu-img', [...encryptedCreateArgs(file), ...tail], id);
          } catch (err) {
            if (attempt >= 3 || !(err instanceof Error) || !err.message.includes('Unable to get accurate CPU usage')) throw err;
          }
        }
      });
    }
    return true;
  }

  /** Whether the existing overlay of `id` is encrypted (qemu-img info); undefined when there is no overlay. */
  async overlayEncrypted(id: string): Promise<boolean | undefined> {
    const overlay = this.overlayPath(id);
    if (!existsSync(overlay)) return undefined;
    // -U: the running guest holds the image lock; reading the header is safe.
    const r = await this.run('qemu-img', ['info', '-U', '--output=json', overlay], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new FoundryError('VM_ACTION', `qemu-img info failed for ${id}: ${r.stderr.trim() || `exit ${r.code}`}`, { resource: id });
    return parseImageInfo(r.stdout).encrypted;
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

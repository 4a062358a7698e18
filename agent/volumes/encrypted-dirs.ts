/**
 * Encrypted directories behind container volumes: one gocryptfs cipher dir per volume under the agent's
 * data dir, mounted (plaintext, FUSE) before a container uses it and unmounted on removal. Podman gets
 * `<mount>/data`, a folder that exists only inside the mounted file system: when the mount is missing
 * (after a reboot, before the key came), the volume's device does not exist and the container fails to
 * start instead of writing plaintext onto the host's disk.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FoundryError } from '../../common/errors.js';
import type { CommandRunner } from '../../common/run-command.js';
import { explainFailure, GOCRYPTFS_CONF, initArgs, isGocryptfsMount, isWrongKey, mountArgs, parseMounts, passwordInput, unmountArgs } from './gocryptfs.js';

/** Where one volume's files are. */
export interface EncryptedDirPaths {
  /** The gocryptfs cipher dir: the only place the data is on disk, encrypted. */
  cipher: string;
  /** The FUSE mount point (plaintext view while mounted). */
  mount: string;
  /** What Podman binds into the container: a folder inside the mount. */
  data: string;
}

/** Creates, mounts, unmounts and destroys gocryptfs volumes under `root` (e.g. /var/lib/foundry/volumes). */
export class EncryptedDirs {
  constructor(
    private readonly run: CommandRunner,
    readonly root: string,
    private readonly readMounts: () => string = () => readFileSync('/proc/self/mounts', 'utf8'),
  ) {}

  /** The paths of volume `name` (a runtime volume name: safe characters only). */
  paths(name: string): EncryptedDirPaths {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw new FoundryError('RUNTIME_ACTION', `invalid encrypted volume name "${name}"`, { resource: name, retry: 'terminal' });
    const mount = join(this.root, 'mnt', name);
    return { cipher: join(this.root, 'cipher', name), mount, data: join(mount, 'data') };
  }

  /** True while the volume's gocryptfs mount is live. */
  isMounted(name: string): boolean {
    return isGocryptfsMount(parseMounts(this.readMounts()), this.paths(name).mount);
  }

  /** True when the volume was initialised (its cipher dir holds gocryptfs.conf). */
  exists(name: string): boolean {
    return existsSync(join(this.paths(name).cipher, GOCRYPTFS_CONF));
  }

  /**
   * Mounts the volume with `key`, initialising an empty cipher dir first. No-op when mounted. Returns the
   * paths. A key that does not open an existing volume is a terminal error naming `resource`.
   */
  async ensureMounted(name: string, key: Buffer, resource: string): Promise<EncryptedDirPaths> {
    const p = this.paths(name);
    if (!this.isMounted(name)) {
      mkdirSync(p.cipher, { recursive: true, mode: 0o700 });
      mkdirSync(p.mount, { recursive: true, mode: 0o700 });
      if (!this.exists(name)) {
        if (readdirSync(p.cipher).length > 0) throw new FoundryError('RUNTIME_ACTION', `cipher dir ${p.cipher} of ${resource} is not empty but has no ${GOCRYPTFS_CONF}; leaving it untouched`, { resource, retry: 'wait' });
        await this.gocryptfs(initArgs(p.cipher), key, resource, 'initialise');
      }
      await this.gocryptfs(mountArgs(p.cipher, p.mount), key, resource, 'mount');
    }
    mkdirSync(p.data, { recursive: true });
    return p;
  }

  /** Unmounts the volume (lazily when busy); no-op when not mounted. */
  async unmount(name: string, resource: string): Promise<void> {
    const p = this.paths(name);
    if (!this.isMounted(name)) return;
    const r = await this.run('fusermount3', unmountArgs(p.mount), { timeoutMs: 30_000 });
    if (r.code === 0) return;
    const lazy = await this.run('fusermount3', unmountArgs(p.mount, true), { timeoutMs: 30_000 });
    if (lazy.code !== 0) throw new FoundryError('RUNTIME_ACTION', `cannot unmount encrypted volume of ${resource}: ${lazy.stderr.trim() || r.stderr.trim()}`, { resource });
  }

  /** Unmounts and deletes the cipher dir and mount point (the key is destroyed elsewhere, first). */
  async destroy(name: string, resource: string): Promise<void> {
    await this.unmount(name, resource);
    const p = this.paths(name);
    rmSync(p.cipher, { recursive: true, force: true });
    rmSync(p.mount, { recursive: true, force: true });
  }

  private async gocryptfs(args: string[], key: Buffer, resource: string, what: string): Promise<void> {
    let r;
    try {
      r = await this.run('gocryptfs', args, { input: passwordInput(key), timeoutMs: 60_000 });
    } catch (cause) {
      const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
      throw new FoundryError('RUNTIME_UNAVAILABLE', `cannot run gocryptfs: ${missing ? 'not installed (apt-get install gocryptfs fuse3)' : (cause as Error).message}`, { resource, cause });
    }
    if (r.code === 0) return;
    if (isWrongKey(r.code)) throw new FoundryError('VOLUME_KEY_MISSING', `cannot ${what} the encrypted volume of ${resource}: the key this node holds does not open it`, { resource, retry: 'terminal' });
    throw new FoundryError('RUNTIME_ACTION', `cannot ${what} the encrypted volume of ${resource}: ${explainFailure(r.code, r.stderr)}`, { resource });
  }
}

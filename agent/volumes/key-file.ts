/**
 * Hands a volume key to a tool that reads secrets only from a file (qemu-img's `--object secret,file=`,
 * `virsh secret-set-value --file`): the key is written to a 0600 file in a fresh 0700 folder on a RAM
 * file system (tmpfs, checked), for the duration of one call, then deleted. It never reaches a disk. A
 * pipe does not work here: Node gives children socket stdio, which these tools cannot open as a file.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FoundryError } from '../../common/errors.js';
import { parseMounts } from './gocryptfs.js';

/** RAM file systems tried in order. */
const RAM_DIRS = ['/dev/shm', '/run'];

/** The first of `candidates` that is a tmpfs mount point in `mountsText` (/proc/self/mounts); undefined when none is. */
export function ramDirIn(mountsText: string, candidates: readonly string[] = RAM_DIRS): string | undefined {
  const mounts = parseMounts(mountsText);
  return candidates.find((dir) => mounts.some((m) => m.target === dir && (m.fstype === 'tmpfs' || m.fstype === 'ramfs')));
}

/** Runs `fn` with the path of a RAM-backed file holding `content`; deletes it afterwards, whatever happens. */
export async function withKeyFile<T>(content: string, resource: string, fn: (file: string) => Promise<T>, mountsText = readFileSync('/proc/self/mounts', 'utf8')): Promise<T> {
  const ram = ramDirIn(mountsText);
  if (ram === undefined) throw new FoundryError('RUNTIME_UNAVAILABLE', `no RAM file system (tmpfs at ${RAM_DIRS.join(' or ')}) to hand the disk key to qemu-img and virsh without writing it to disk`, { resource });
  const dir = mkdtempSync(join(ram, 'foundry-key-'));
  try {
    const file = join(dir, 'key');
    writeFileSync(file, content, { mode: 0o600 });
    return await fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

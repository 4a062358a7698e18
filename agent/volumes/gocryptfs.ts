/**
 * The gocryptfs and fusermount3 command lines as argv builders plus pure parsers (the simple-git
 * pattern); processes are spawned only through common/run-command.ts. The volume key
 * is gocryptfs's *password* and always travels on the child's stdin, never in argv or a file: gocryptfs
 * reads the password from stdin when stdin is not a terminal. `-init` draws a random 256-bit master key
 * and stores it in gocryptfs.conf wrapped (AES-256-GCM) under a key derived from the password with scrypt
 * (N=2^16) and HKDF, so the cipher dir holds no usable key without ours.
 */

/** The file `-init` writes into the cipher dir (the wrapped master key and the feature flags). */
export const GOCRYPTFS_CONF = 'gocryptfs.conf';

/**
 * `gocryptfs -init` of an empty cipher dir. `-q` keeps gocryptfs from printing the master key, which it
 * otherwise does for paper backups.
 */
export function initArgs(cipherDir: string): string[] {
  return ['-init', '-q', '--', cipherDir];
}

/**
 * Mounts `cipherDir` at `mountDir`. `-allow_other`: container processes run as any uid (root through
 * FUSE's default would be the only one allowed); `-noprealloc` avoids fallocate, which some host file
 * systems of the data dir refuse. gocryptfs forks to the background once the mount answers, and that daemon sends
 * its messages to syslog: with `-nosyslog` it would hold our stderr pipe open for its whole life.
 */
export function mountArgs(cipherDir: string, mountDir: string): string[] {
  return ['-q', '-allow_other', '-noprealloc', '--', cipherDir, mountDir];
}

/** `fusermount3 -u` (or `-u -z`, lazily, when the mount is busy) of a gocryptfs mount. */
export function unmountArgs(mountDir: string, lazy = false): string[] {
  return lazy ? ['-u', '-z', mountDir] : ['-u', mountDir];
}

/** The password line gocryptfs reads on stdin: the key as text (base64) and a newline. */
export function passwordInput(key: Buffer): string {
  return `${key.toString('base64')}\n`;
}

/** What gocryptfs's documented exit codes mean (gocryptfs(1), "EXIT CODES"). */
const EXIT_CODES: Readonly<Record<number, string>> = {
  6: 'the cipher dir is not empty (or not a gocryptfs dir)',
  9: 'the password cannot be read',
  10: 'the mount point is not empty',
  12: 'wrong key: the key does not unlock this volume',
  22: 'the password is empty',
  23: 'gocryptfs.conf cannot be read or is missing',
  24: 'gocryptfs.conf cannot be written',
};

/** One line that says why a gocryptfs run failed: the documented meaning of its exit code, then its own words. */
export function explainFailure(code: number | null, stderr: string): string {
  const own = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/syslog/i.test(l))
    .join('; ');
  const meaning = code === null ? 'killed (timed out)' : EXIT_CODES[code];
  return [meaning ?? `exit ${code ?? 'null'}`, own].filter((s) => s !== '').join(': ');
}

/** True when the exit code means the key was wrong (the volume exists but this key does not open it). */
export function isWrongKey(code: number | null): boolean {
  return code === 12;
}

/** One line of /proc/self/mounts, decoded. */
export interface MountEntry {
  source: string;
  target: string;
  fstype: string;
}

/** Parses /proc/self/mounts (octal escapes such as \040 for a space decoded). */
export function parseMounts(text: string): MountEntry[] {
  const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
  return text
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => f.length >= 3)
    .map(([source, target, fstype]) => ({ source: unescape(source as string), target: unescape(target as string), fstype: fstype as string }));
}

/** True when `mountDir` is a live gocryptfs mount in `mounts` (gocryptfs reports fstype fuse.gocryptfs). */
export function isGocryptfsMount(mounts: readonly MountEntry[], mountDir: string): boolean {
  return mounts.some((m) => m.target === mountDir && m.fstype === 'fuse.gocryptfs');
}

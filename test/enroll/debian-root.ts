/**
 * Test support: a clean Debian 12 (bookworm) root file system made by debootstrap from the Debian mirror
 * this machine's apt uses, cached by a version key (creating it takes about a minute), copied per test
 * run, and commands run in it through chroot inside a private mount namespace (`unshare --mount`): /proc,
 * a read-only /sys and the shared apt caches are mounted there only, so every mount disappears with the
 * last process, whatever happens to the test. The chroot shares the host's network namespace: a hub on
 * 127.0.0.1 is reachable from inside.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Bump to rebuild every cached root file system (what debootstrap is asked for changed). */
export const ROOTFS_KEY = 'bookworm-minbase-curl-1';
/** Where cached root file systems and the apt caches shared by the chroots live. */
export const CACHE_DIR = '/var/cache/foundry-test/bookworm-rootfs';
const APT_ARCHIVES = join(CACHE_DIR, 'apt-archives');
const APT_LISTS = join(CACHE_DIR, 'apt-lists');

/** The Debian mirror apt uses on this machine (deb822 or one-line sources), else deb.debian.org. */
export function debianMirror(): string {
  const files = ['/etc/apt/sources.list', ...(existsSync('/etc/apt/sources.list.d') ? readdirSync('/etc/apt/sources.list.d').filter((f) => /\.(list|sources)$/.test(f)).map((f) => join('/etc/apt/sources.list.d', f)) : [])];
  for (const f of files) {
    if (!existsSync(f)) continue;
    const text = readFileSync(f, 'utf8');
    const deb822 = /^URIs:\s*(\S+\/debian)\s*$/m.exec(text);
    if (deb822?.[1] !== undefined) return deb822[1];
    const line = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\s+bookworm\s/m.exec(text);
    if (line?.[1] !== undefined) return line[1];
  }
  return 'http://deb.debian.org/debian';
}

/** Runs a command to completion, rejecting with its output's tail when it fails. */
export function runToEnd(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** The cached bookworm minbase root file system (with curl, as `curl … | sh` needs), built when missing. */
export async function ensureBookwormRootfs(): Promise<string> {
  const dir = join(CACHE_DIR, ROOTFS_KEY);
  if (existsSync(join(dir, 'etc', 'debian_version'))) return dir;
  mkdirSync(CACHE_DIR, { recursive: true });
  const stage = `${dir}.stage-${process.pid}`;
  rmSync(stage, { recursive: true, force: true });
  const r = await runToEnd('debootstrap', ['--variant=minbase', '--include=curl', 'bookworm', stage, debianMirror()]);
  if (r.code !== 0) {
    rmSync(stage, { recursive: true, force: true });
    throw new Error(`debootstrap failed (${r.code}): ${(r.stdout + r.stderr).trim().split('\n').slice(-5).join('\n')}`);
  }
  // Another run may have finished first: keep theirs.
  if (existsSync(dir)) rmSync(stage, { recursive: true, force: true });
  else renameSync(stage, dir);
  return dir;
}

/** A private copy of the cached root file system at `dst` (with this host's resolv.conf for the mirror). */
export async function copyRootfs(src: string, dst: string): Promise<void> {
  const r = await runToEnd('cp', ['-a', src, dst]);
  if (r.code !== 0) throw new Error(`cp -a ${src} ${dst}: ${r.stderr}`);
  if (existsSync('/etc/resolv.conf')) copyFileSync('/etc/resolv.conf', join(dst, 'etc', 'resolv.conf'));
}

/** The environment commands get in the chroot: Debian's PATH, nothing of this process (no NODE_* either). */
export const CHROOT_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8', TMPDIR: '/tmp' };

/** argv that runs `sh -c script args...` in the chroot at `root`, inside a private mount namespace. */
export function chrootArgv(root: string, script: string, args: string[] = []): string[] {
  mkdirSync(join(APT_ARCHIVES, 'partial'), { recursive: true });
  mkdirSync(join(APT_LISTS, 'partial'), { recursive: true });
  const mounts = [
    'set -e',
    'R=$1; shift',
    'mount -t proc proc "$R/proc"',
    'mount -t sysfs -o ro sysfs "$R/sys"',
    `mount --bind ${APT_ARCHIVES} "$R/var/cache/apt/archives"`,
    `mount --bind ${APT_LISTS} "$R/var/lib/apt/lists"`,
    'exec chroot "$R" /bin/sh -c "$@"',
  ].join('\n');
  return ['--mount', '--propagation', 'private', 'sh', '-c', mounts, 'sh', root, script, 'sh', ...args];
}

/** Runs `sh -c script args...` in the chroot to completion. */
export function inChroot(root: string, script: string, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return runToEnd('unshare', chrootArgv(root, script, args), { env: CHROOT_ENV });
}

/** Starts `sh -c script args...` in the chroot (a long-running process; its pid becomes the command's through exec). */
export function startInChroot(root: string, script: string, args: string[] = []): ChildProcess {
  return spawn('unshare', chrootArgv(root, script, args), { env: CHROOT_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** True when no mount of this (host) namespace lies under `root`, so removing it cannot reach outside. */
export function noMountsUnder(root: string): boolean {
  return !readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => (l.split(' ')[4] ?? '').startsWith(`${root}/`));
}

/** True when this process is root and debootstrap, chroot and unshare are installed. */
export function canChroot(): boolean {
  return process.getuid?.() === 0 && ['debootstrap', 'chroot', 'unshare', 'mount'].every((c) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', c], { stdio: 'ignore' }).status === 0);
}

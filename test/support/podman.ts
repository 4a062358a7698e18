/**
 * A private Podman for one test file: its own storage (--root/--runroot), its own network config dir,
 * its own API socket (`podman system service`), and the local test image imported into it. Tests neither
 * see nor disturb other containers. Test files that use it run one at a time (a lock in the temp dir),
 * because netavark bridges and subnets are host-wide.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onPath } from './requires.js';

/** Where Debian's podman is, for instances started with a PATH of their own. */
const PODMAN_BIN = '/usr/bin/podman';

/** The local test image (busybox-static; see scripts/build-test-image.sh). */
export const TEST_IMAGE = 'localhost/foundry-test:1';
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** True when rootful Podman with runc can run here (what the integration tests need). A PATH lookup, not a spawn: a loaded machine must not turn a slow `podman --version` into skipped tests. */
export function podmanAvailable(): boolean {
  return process.getuid?.() === 0 && onPath('podman', 'runc') && existsSync('/bin/busybox');
}

/** How to get Podman, for describeIf. */
export const PODMAN_HOW = 'run as root with podman and what it needs installed (apt-get install -y --no-install-recommends podman runc catatonit netavark aardvark-dns iptables busybox-static), then sudo bash scripts/host-setup.sh (--check names what is missing)';

/** A running private Podman API service. */
export interface PrivatePodman {
  dir: string;
  socketPath: string;
  /** Environment for podman CLI calls against this storage (CONTAINERS_CONF). */
  env: NodeJS.ProcessEnv;
  /** Flags that select this storage: --root, --runroot. */
  flags: string[];
  /** Runs `podman <flags> args...` synchronously against this storage. */
  podman(args: string[], options?: { allowFail?: boolean; timeoutMs?: number }): { stdout: string; stderr: string; status: number };
  /** Stops every container, removes networks and volumes, stops the service and deletes the storage. */
  stop(): Promise<void>;
}

/** Builds (once per machine, cached in the temp dir) the test image tarball; returns its path. */
export function testImageTar(): string {
  const busybox = statSync('/bin/busybox');
  const tar = join(tmpdir(), `foundry-test-image-${Math.floor(busybox.mtimeMs)}.tar`);
  if (existsSync(tar)) return tar;
  const r = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'build-test-image.sh'), '--tar', tar], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`build-test-image.sh failed: ${r.stderr}`);
  return tar;
}

/** The containers.conf of a private instance: runc, no default ulimits, private network config and tmp dir; `extra` lines per section. */
export function containersConf(dir: string, subnetBase: string, extra: PrivatePodmanOptions = {}): string {
  return [
    '[containers]',
    'default_ulimits = []',
    '',
    '[engine]',
    'runtime = "runc"',
    `tmp_dir = "${join(dir, 'tmp')}"`,
    'events_logger = "file"',
    ...(extra.engine ?? []),
    '',
    '[network]',
    `network_config_dir = "${join(dir, 'networks')}"`,
    `default_subnet_pools = [{"base" = "${subnetBase}", "size" = 24}]`,
    ...(extra.network ?? []),
    '',
  ].join('\n');
}

/** Variations of a private instance (e.g. a broken one, for the capability probe). */
export interface PrivatePodmanOptions {
  /** Extra lines of containers.conf's [engine] section (e.g. helper_binaries_dir). */
  engine?: string[];
  /** Extra lines of its [network] section (e.g. network_backend = "cni"). */
  network?: string[];
  /** PATH of the service and CLI calls (podman itself is run by its full path). */
  path?: string;
}

/** Starts a private Podman API service with the test image imported. Call stop() in afterAll. */
export async function startPrivatePodman(options: PrivatePodmanOptions = {}): Promise<PrivatePodman> {
  const release = await acquireLock();
  const dir = mkdtempSync(join(tmpdir(), 'fc-podman-'));
  let service: ChildProcess | undefined;
  try {
    for (const sub of ['root', 'runroot', 'tmp', 'networks']) mkdirSync(join(dir, sub), { recursive: true });
    const conf = join(dir, 'containers.conf');
    writeFileSync(conf, containersConf(dir, '10.213.0.0/16', options));
    const env = { ...process.env, CONTAINERS_CONF: conf, ...(options.path === undefined ? {} : { PATH: options.path }) };
    const bin = options.path === undefined ? 'podman' : PODMAN_BIN;
    const flags = ['--root', join(dir, 'root'), '--runroot', join(dir, 'runroot')];
    const socketPath = join(dir, 'podman.sock');
    const podman = (args: string[], options: { allowFail?: boolean; timeoutMs?: number } = {}): { stdout: string; stderr: string; status: number } => {
      const r = spawnSync(bin, [...flags, ...args], { env, encoding: 'utf8', timeout: options.timeoutMs ?? 60_000 });
      const out = { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status ?? -1 };
      if (out.status !== 0 && options.allowFail !== true) throw new Error(`podman ${args.join(' ')} failed (${out.status}): ${out.stderr}`);
      return out;
    };
    podman(['import', '--change', 'CMD ["/bin/sh"]', '--change', 'ENV PATH=/bin', testImageTar(), TEST_IMAGE]);
    service = spawn(bin, [...flags, 'system', 'service', '--time=0', `unix://${socketPath}`], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let serviceErr = '';
    service.stderr?.on('data', (d: Buffer) => (serviceErr = (serviceErr + d.toString()).slice(-4000)));
    await waitForPing(socketPath, 30_000, () => serviceErr);
    const proc = service;
    const stop = async (): Promise<void> => {
      try {
        podman(['pod', 'rm', '--all', '--force', '--time', '0'], { allowFail: true });
        podman(['rm', '--all', '--force', '--time', '0'], { allowFail: true });
        podman(['network', 'prune', '--force'], { allowFail: true });
        podman(['volume', 'prune', '--force'], { allowFail: true });
        await stopProcess(proc);
        removeStorage(dir);
      } finally {
        release();
      }
    };
    return { dir, socketPath, env, flags, podman, stop };
  } catch (err) {
    if (service !== undefined) await stopProcess(service);
    removeStorage(dir);
    release();
    throw err;
  }
}

/**
 * Deletes a private storage dir. Podman's overlay driver bind-mounts `root/overlay` onto itself, and a
 * container's rootfs or shm can stay mounted for a moment after `rm`: unmount whatever is still mounted
 * below the dir (deepest first; lazily if it is busy), then remove with retries on EBUSY.
 */
function removeStorage(dir: string): void {
  const mounted = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => (line.split(' ')[1] ?? '').replace(/\\040/g, ' '))
    .filter((m) => m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounted) if (spawnSync('umount', [m]).status !== 0) spawnSync('umount', ['-l', m]);
  rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
}

async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((res) => proc.once('exit', () => res()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Polls GET /_ping on the socket until it answers 200. */
export async function waitForPing(socketPath: string, timeoutMs: number, detail: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((res) => {
      const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: 1_000 }, (r) => {
        r.resume();
        res(r.statusCode === 200);
      });
      req.on('error', () => res(false));
      req.on('timeout', () => req.destroy());
      req.end();
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`podman service on ${socketPath} did not answer within ${timeoutMs} ms: ${detail()}`);
}

/** A cross-process lock (a directory holding the owner's pid) so Podman test files run one at a time. */
async function acquireLock(): Promise<() => void> {
  const lock = join(tmpdir(), 'foundry-podman-tests.lock');
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return () => rmSync(lock, { recursive: true, force: true });
    } catch {
      if (lockIsStale(lock)) rmSync(lock, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function lockIsStale(lock: string): boolean {
  try {
    const pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return Date.now() - statSync(lock).mtimeMs > 10_000;
    process.kill(pid, 0);
    return false;
  } catch (err) {
    // ESRCH: the owner is gone. ENOENT: the pid file is not written yet, or the lock just went away.
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
    try {
      return Date.now() - statSync(lock).mtimeMs > 10_000;
    } catch {
      return false;
    }
  }
}

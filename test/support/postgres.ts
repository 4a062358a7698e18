/**
 * A real PostgreSQL server for the store tests: Debian's `postgresql` package (installed by .ci/run),
 * run as a private cluster under the temp dir on a loopback port (no system service, trust auth on
 * 127.0.0.1 only). Started once by whichever test file needs it first and left running for the next
 * files and runs; every test database is created fresh (CREATE DATABASE) and dropped after.
 * FOUNDRY_TEST_PG_URL points the tests at another server instead (a superuser URL).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** The port of the private test cluster. */
export const TEST_PG_PORT = Number(process.env.FOUNDRY_TEST_PG_PORT ?? 17_230);
const ROOT = join(tmpdir(), 'foundry-test-pg');
const DATA = join(ROOT, 'data');

/** The directory of PostgreSQL's server programs (initdb, pg_ctl), newest version first; undefined when not installed. */
export function postgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  const found = versions.map((v) => join(base, v, 'bin')).find((d) => existsSync(join(d, 'pg_ctl')));
  return found;
}

/** True when a PostgreSQL server can be used by the tests (a URL given, or the server programs installed). */
export function postgresAvailable(): boolean {
  return process.env.FOUNDRY_TEST_PG_URL !== undefined || postgresBinDir() !== undefined;
}

const asRoot = process.getuid?.() === 0;

/** Runs a server program as the cluster's owner: `postgres` when the tests run as root (initdb refuses root). */
function pgRun(bin: string, args: string[], allowFail = false): { ok: boolean; out: string } {
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 120_000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0 && !allowFail) throw new Error(`${bin} ${args.join(' ')} failed: ${out.trim() || r.error?.message}`);
  return { ok: r.status === 0, out };
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Holds a cross-process lock (a directory) while `fn` runs: parallel test files start the cluster once. */
function withLock<T>(fn: () => T): T {
  mkdirSync(ROOT, { recursive: true, mode: 0o711 });
  const lock = join(ROOT, 'lock');
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // a lock left by a killed run is stale after two minutes
      if (i > 1200 || Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      sleepSync(100);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Starts the private cluster unless it runs (idempotent, safe from parallel files); returns a superuser
 * URL. Throws with the server's output when it cannot start.
 */
export function ensurePostgres(): string {
  const given = process.env.FOUNDRY_TEST_PG_URL;
  if (given !== undefined) return given;
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
  return withLock(() => {
    const url = `postgres://postgres@127.0.0.1:${TEST_PG_PORT}/postgres`;
    if (existsSync(join(DATA, 'PG_VERSION')) && pgRun(join(bin, 'pg_ctl'), ['-D', DATA, 'status'], true).ok) return url;
    if (!existsSync(join(DATA, 'PG_VERSION'))) {
      rmSync(DATA, { recursive: true, force: true });
      mkdirSync(DATA, { recursive: true, mode: 0o700 });
      if (asRoot) chownOwner(DATA);
      pgRun(join(bin, 'initdb'), ['-D', DATA, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8']);
      writeFileSync(join(DATA, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\n');
    }
    const log = join(ROOT, 'postgres.log');
    writeFileSync(log, '');
    if (asRoot) chownOwner(log);
    // sockets in the data dir: /var/run/postgresql may not exist on a bare machine
    pgRun(join(bin, 'pg_ctl'), ['-D', DATA, '-w', '-t', '60', '-l', log, '-o', `-h 127.0.0.1 -p ${TEST_PG_PORT} -k ${DATA} -c max_connections=300 -c fsync=on`, 'start']);
    return url;
  });
}

function chownOwner(path: string): void {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  chownSync(ROOT, 0, 0);
  chownSync(path, uid, gid);
}

/** A fresh, empty database on the test server: its URL, and a function that drops it. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = ensurePostgres();
  const name = `foundry_test_${randomBytes(6).toString('hex')}`;
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8'`);
  } finally {
    await client.end();
  }
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

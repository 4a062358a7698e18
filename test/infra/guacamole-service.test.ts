/**
 * The example Guacamole service's database initialisation, run for real with /bin/sh (busybox-static) in a
 * throw-away chroot that stands in for the two images (neither can be pulled here): guacamole-schema
 * writes initdb.sh's schema once (without the default guacadmin user), atomically, and db's first start
 * waits for that file before handing over to the PostgreSQL image's entrypoint.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EXAMPLE_INFRA_DIR } from '../../common/paths.js';
import { describeIf } from '../support/requires.js';

interface Container { name: string; command?: string[]; env?: Record<string, string>; volumes?: { name: string; mountPath: string }[] }
const service = parse(readFileSync(join(EXAMPLE_INFRA_DIR, 'services', 'guacamole.yaml'), 'utf8')) as { spec: { containers: Container[] } };
const container = (name: string): Container => service.spec.containers.find((c) => c.name === name)!;

// chroot itself from the host's PATH; inside, PATH is /bin of the chroot
const CHROOT = ['/usr/sbin/chroot', '/usr/bin/chroot'].find((p) => existsSync(p)) ?? 'chroot';
const usable = existsSync('/bin/busybox') && process.getuid?.() === 0 && spawnSync(CHROOT, ['--version']).status === 0;
let root: string;

/** Runs a container's command (its argv) inside the chroot. */
function run(c: Container): ReturnType<typeof spawnSync> {
  return spawnSync(CHROOT, [root, ...(c.command ?? [])], { encoding: 'utf8', timeout: 20_000, env: { PATH: '/bin' } });
}

describeIf(usable, 'root and busybox-static', 'run as root with busybox-static installed')('example guacamole service: database initialisation', () => {
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'ft-guac-init-'));
    mkdirSync(join(root, 'bin'));
    copyFileSync('/bin/busybox', join(root, 'bin', 'busybox'));
    chmodSync(join(root, 'bin', 'busybox'), 0o755);
    for (const tool of ['sh', 'echo', 'mv', 'cat', '[', 'test']) symlinkSync('busybox', join(root, 'bin', tool));
    // the images' own tools, stubbed: initdb.sh counts its runs; sleep returns; the postgres entrypoint reports
    mkdirSync(join(root, 'opt', 'guacamole', 'bin'), { recursive: true });
    writeFileSync(join(root, 'opt', 'guacamole', 'bin', 'initdb.sh'), '#!/bin/sh\n[ "$1" = --postgresql ] || exit 2\necho run >> /initdb-runs\necho "CREATE TABLE guacamole_entity (entity_id serial);"\n', { mode: 0o755 });
    writeFileSync(join(root, 'bin', 'sleep'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    writeFileSync(join(root, 'bin', 'docker-entrypoint.sh'), '#!/bin/sh\necho "entrypoint $*"\n', { mode: 0o755 });
    // both containers mount the shared volume guacamole-initdb, at their own paths
    mkdirSync(join(root, 'initdb'));
    symlinkSync('/initdb', join(root, 'docker-entrypoint-initdb.d'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('shares one volume between the schema writer and the database', () => {
    expect(container('guacamole-schema').volumes).toEqual([{ name: 'guacamole-initdb', mountPath: '/initdb' }]);
    expect(container('db').volumes).toContainEqual({ name: 'guacamole-initdb', mountPath: '/docker-entrypoint-initdb.d', readOnly: true });
  });

  it('starts the database only once the schema file is there, then hands over to the image entrypoint', async () => {
    const db = spawn(CHROOT, [root, ...(container('db').command ?? [])], { env: { PATH: '/bin' } });
    let out = '';
    db.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => db.once('exit', (code) => resolve(code)));
    await new Promise((r) => setTimeout(r, 1500));
    expect(db.exitCode).toBeNull();
    // the schema writer runs: db's loop sees the file and execs the entrypoint with "postgres"
    const schema = run(container('guacamole-schema'));
    expect(schema.status).toBe(0);
    // busybox sleep stands in for sleep, so the loop wakes at once; give it a few rounds
    const done = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]);
    if (done === 'timeout') db.kill('SIGKILL');
    expect(done).toBe(0);
    expect(out).toBe('entrypoint postgres\n');
  });

  it('writes the schema once, without the default guacadmin user, and never a partial file', () => {
    const sql = readFileSync(join(root, 'initdb', '001-guacamole-schema.sql'), 'utf8');
    expect(sql).toBe("CREATE TABLE guacamole_entity (entity_id serial);\nDELETE FROM guacamole_entity WHERE name = 'guacadmin' AND type = 'USER';\n");
    expect(existsSync(join(root, 'initdb', '001-guacamole-schema.sql.tmp'))).toBe(false);
    expect(run(container('guacamole-schema')).status).toBe(0);
    expect(readFileSync(join(root, 'initdb-runs'), 'utf8')).toBe('run\n');
  });
});

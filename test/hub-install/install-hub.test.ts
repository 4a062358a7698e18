/**
 * install-hub.sh for real into a temp root: the installed hub runs in the foreground through its launcher
 * (as an unprivileged user when the tests run as root) with direct TLS and answers /healthz; an upgrade to
 * another bundle keeps the data, backs hub.db up and migrates it; a second run changes nothing; a bundle
 * older than the database is refused before anything changes, and so is starting it; bad input is refused
 * naming what; uninstall keeps the data unless --purge.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describeIf, describeIfBuilt } from '../support/requires.js';
import { filesUnder, selfSignedCert, snapshot, toolsPresent, INSTALL_SH } from '../enroll/support.js';
import { buildHubBundle, httpsJson, httpsText, runInstallHub, runScript, startViaLauncher } from './support.js';
import { migrate } from '../../hub/store/migrate.js';
import { MIGRATIONS } from '../../hub/store/migrations/index.js';

const tools = ['sh', 'tar', 'gzip', 'sha256sum', 'git', 'ssh-keygen', 'setpriv', 'openssl', 'shellcheck'];
const describeInstall = describeIf(toolsPresent(...tools), tools.join(', '), 'apt-get install -y git openssh-client openssl shellcheck (install-hub.sh checks for them)');
const built = describeIfBuilt('dist/cli/foundry.js', 'dist/hub/enroll/agent-bundle.js');

// As root (CI), the hub runs as `nobody` through setpriv, as it runs as foundry-hub on a real machine.
const asRoot = process.getuid?.() === 0;
const userArgs = asRoot ? ['--user', 'nobody'] : [];
const hubUid = asRoot ? 65534 : process.getuid!();
const latest = MIGRATIONS.at(-1)!;
const previous = MIGRATIONS.at(-2)!;

built('install-hub.sh (built package)', () => {
  describeInstall('install-hub.sh into a temp root', () => {
    let dir: string;
    let bundleA: string;
    let bundleB: string;
    let tls: { cert: string; key: string };
    const root = (name: string): string => join(dir, name);
    const shaOf = (file: string): string => spawnSync('sha256sum', [file], { encoding: 'utf8' }).stdout.slice(0, 64);

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'foundry-hub-install-'));
      chmodSync(dir, 0o755);
      bundleA = buildHubBundle(join(dir, 'bundle-a'));
      // Another release: the same content with a different checksum (a second gzip member that tar never reads).
      mkdirSync(join(dir, 'bundle-b'));
      bundleB = join(dir, 'bundle-b', 'foundry-hub.tgz');
      await pipeline(createReadStream(bundleA), createWriteStream(bundleB));
      await pipeline(Readable.from([Buffer.from('release b\n')]), createGzip(), createWriteStream(bundleB, { flags: 'a' }));
      tls = selfSignedCert(dir, 'hub');
      chmodSync(tls.key, 0o644);
    });
    afterAll(() => {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    const paths = (r: string): { etc: string; env: string; varDir: string; db: string; opt: string; launcher: string } => ({
      etc: join(r, 'etc', 'foundry-hub'),
      env: join(r, 'etc', 'foundry-hub', 'hub.env'),
      varDir: join(r, 'var', 'lib', 'foundry-hub'),
      db: join(r, 'var', 'lib', 'foundry-hub', 'hub.db'),
      opt: join(r, 'opt', 'foundry-hub'),
      launcher: join(r, 'usr', 'local', 'bin', 'foundry-hub'),
    });

    it('installs, upgrades with a backup and migration, keeps the data, changes nothing on a rerun, refuses a downgrade', async () => {
      const p = paths(root('a'));
      const first = await runInstallHub(['--bundle', bundleA, '--prefix', root('a'), '--no-systemd', ...userArgs, '--port', '0', '--tls-cert', tls.cert, '--tls-key', tls.key, '--public-url', 'https://hub.example.eu', '--trust-proxy', '127.0.0.1,::1']);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/bundled runtime: node \d+\.\d+\.\d+ \S+ abi \d+\n/);
      expect(first.stdout).toContain(`installed hub release ${shaOf(bundleA).slice(0, 12)}\n`);
      expect(first.stdout).toContain('done (changed: data-dir hub.env release current launcher)');
      expect(statSync(p.env).mode & 0o777).toBe(0o600);
      expect(readFileSync(p.env, 'utf8')).toContain(`\nFOUNDRY_HUB_OPTS="--host 127.0.0.1 --port 0 --public-url https://hub.example.eu --trust-proxy 127.0.0.1,::1 --tls-cert ${tls.cert} --tls-key ${tls.key}"\n`);
      expect(statSync(p.varDir).mode & 0o777).toBe(0o750);
      expect(statSync(p.varDir).uid).toBe(hubUid);
      expect(readlinkSync(join(p.opt, 'current'))).toBe(`releases/${shaOf(bundleA)}`);
      // The launcher it wrote is as clean as the installer.
      const lint = spawnSync('shellcheck', ['--shell=sh', p.launcher], { encoding: 'utf8' });
      expect(lint.stdout).toBe('');

      // The database of the release before: every migration but the latest, with a node in it.
      const old = new Database(p.db);
      old.pragma('journal_mode = WAL');
      migrate(old, MIGRATIONS.slice(0, -1));
      old.prepare('INSERT INTO nodes (name, credential_hash, created_at) VALUES (?, ?, ?)').run('gpu-01', 'hash', '2026-12-01T00:00:00Z');
      old.close();
      chownSync(p.db, hubUid, statSync(p.varDir).gid);

      // The upgrade: another bundle; the installer names the migrations the hub will apply.
      const up = await runInstallHub(['--bundle', bundleB, '--prefix', root('a'), '--no-systemd', ...userArgs]);
      expect(up.stderr).toBe('');
      expect(up.code).toBe(0);
      expect(up.stdout).toContain(`the hub applies these migrations when it starts (after a backup of hub.db): ${latest.version}-${latest.name}\n`);
      expect(up.stdout).toContain(`installed hub release ${shaOf(bundleB).slice(0, 12)} (previous: ${shaOf(bundleA).slice(0, 12)})\n`);
      expect(readlinkSync(join(p.opt, 'current'))).toBe(`releases/${shaOf(bundleB)}`);
      expect(readlinkSync(join(p.opt, 'previous'))).toBe(`releases/${shaOf(bundleA)}`);

      // The installed hub in the foreground, with direct TLS: it backs the old file up, migrates, serves.
      const hub = await startViaLauncher(p.launcher);
      try {
        expect(hub.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
        const backup = new RegExp(`hub database upgraded from schema version ${previous.version} to ${latest.version} \\(backup of the previous file: (${p.varDir}/backups/hub-v${previous.version}-[0-9T-]+Z\\.db)\\)`).exec(hub.log());
        expect(backup, hub.log()).not.toBeNull();
        const ca = readFileSync(tls.cert, 'utf8');
        expect(await httpsJson(`${hub.url}/healthz`, ca)).toEqual({ status: 200, body: { status: 'ok' } });
        // What the hub serves from its own package: the node installer, the agent bundle it builds with its bundled runtime, the dashboard.
        expect((await httpsText(`${hub.url}/install.sh`, ca)).body).toBe(readFileSync(INSTALL_SH, 'utf8'));
        expect((await httpsText(`${hub.url}/agent/foundry-agent.tgz.sha256`, ca)).body).toMatch(/^[0-9a-f]{64} {2}foundry-agent\.tgz\n$/);
        const home = await httpsText(`${hub.url}/`, ca);
        const page = await httpsText(new URL(home.location ?? '/', hub.url).href, ca);
        expect(page.status).toBe(200);
        expect(page.body).toContain('<!doctype html>');
        // An admin command through the launcher, as the hub's user, on the same data dir.
        const token = await runScript(p.launcher, ['admin-token', 'create', '--label', 'ops']);
        expect(token.stderr).toBe('');
        const nodes = await httpsJson(`${hub.url}/api/v1/nodes`, readFileSync(tls.cert, 'utf8'), { token: token.stdout.trim() });
        expect(nodes.status).toBe(200);
        expect((nodes.body as { nodes: Array<{ name: string }> }).nodes.map((n) => n.name)).toEqual(['gpu-01']);
        const copy = new Database(backup![1]!, { readonly: true });
        expect(copy.prepare('SELECT max(version) FROM schema_migrations').pluck().get()).toBe(previous.version);
        expect(copy.prepare('SELECT name FROM nodes').pluck().all()).toEqual(['gpu-01']);
        copy.close();
        expect(statSync(backup![1]!).uid).toBe(hubUid);
        expect(statSync(p.db).uid).toBe(hubUid);
        // The launcher's umask: what the hub writes is its own.
        expect(statSync(backup![1]!).mode & 0o777).toBe(0o600);
      } finally {
        expect(await hub.stop()).toBe(0);
      }

      // A second run of the same bundle changes nothing: same files, same bytes, same mtimes.
      const before = snapshot(root('a'));
      const again = await runInstallHub(['--bundle', bundleB, '--prefix', root('a'), '--no-systemd', ...userArgs, '--port', '9999']);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain(`kept ${p.env} as it is: edit FOUNDRY_HUB_OPTS there to change the hub's options\n`);
      expect(again.stdout).toContain('nothing changed');
      expect(snapshot(root('a'))).toEqual(before);

      // A database a newer release migrated: the older bundle is refused before the switch, and so is starting.
      const w = new Database(p.db);
      w.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(latest.version + 100, 'from-a-newer-release', '2027-01-01T00:00:00Z');
      w.pragma('wal_checkpoint(TRUNCATE)');
      w.close();
      const dbBytes = readFileSync(p.db);
      const down = await runInstallHub(['--bundle', bundleA, '--prefix', root('a'), '--no-systemd', ...userArgs]);
      const why = `${p.db} has schema version ${latest.version + 100} but this hub knows versions up to ${latest.version}: refusing a downgrade (run the newer hub release again, or restore the backup taken before the upgrade; docs/hub-install.md)`;
      expect(down.stderr).toBe(`install-hub.sh: error: refusing to install hub bundle ${shaOf(bundleA).slice(0, 12)}: ${why}\n`);
      expect(down.code).toBe(1);
      expect(readlinkSync(join(p.opt, 'current'))).toBe(`releases/${shaOf(bundleB)}`);
      await expect(startViaLauncher(p.launcher)).rejects.toMatchObject({ code: 1, output: expect.stringContaining(`foundry: ${why}\n`) });
      expect(readFileSync(p.db).equals(dbBytes)).toBe(true);
      const status = await runScript(p.launcher, ['schema', 'status']);
      expect(status.code).toBe(1);
      expect(status.stdout).toContain(`\nschema version: ${latest.version + 100} (this release knows up to ${latest.version})\n`);
      expect(status.stdout).toContain(`unknown to this release: ${latest.version + 100}\n`);
    });

    it('refuses bad input naming the option, and a tampered or foreign bundle, before installing anything', async () => {
      const cases: Array<[string[], string]> = [
        [['--port', '70000'], '--port 70000: expected a number from 0 (any free port) to 65535'],
        [['--port', '65536'], '--port 65536: expected a number from 0 (any free port) to 65535'],
        [['--port', '-1'], '--port -1: expected a number from 0 (any free port) to 65535'],
        [['--host', '0.0.0.0 --evil'], '--host 0.0.0.0 --evil: unexpected characters (allowed: letters, digits and :/._%@~+=,-[])'],
        [['--public-url', 'hub.example.eu'], '--public-url hub.example.eu: expected https://HOST (or http:// on a trusted network)'],
        [['--tls-cert', tls.cert], 'direct TLS needs both --tls-cert and --tls-key'],
        [['--tls-cert', 'hub.crt', '--tls-key', 'hub.key'], 'hub.crt: give the TLS files as absolute paths (the service does not run in this folder)'],
        [['--user', 'no-such-user-foundry'], asRoot ? 'no user no-such-user-foundry (with --prefix, --user names an existing user)' : '--user no-such-user-foundry needs root (the hub\'s commands run as that user)'],
        [['--bundle', join(dir, 'missing.tgz')], `no hub bundle at ${join(dir, 'missing.tgz')}`],
        [['--frobnicate'], 'unknown option: --frobnicate'],
      ];
      for (const [args, message] of cases) {
        const r = await runInstallHub(['--prefix', root('bad'), '--no-systemd', '--bundle', bundleA, ...args]);
        expect(r.stderr.split('\n').filter((l) => l.startsWith('install-hub.sh: error:'))).toEqual([`install-hub.sh: error: ${message}`]);
        expect(r.code).toBe(1);
        expect(existsSync(root('bad'))).toBe(false);
      }
      // A bundle whose .sha256 disagrees, and a tarball that is not a hub bundle.
      mkdirSync(join(dir, 'tampered'));
      const tampered = join(dir, 'tampered', 'foundry-hub.tgz');
      writeFileSync(tampered, readFileSync(bundleA));
      writeFileSync(`${tampered}.sha256`, `${'0'.repeat(64)}  foundry-hub.tgz\n`);
      const t = await runInstallHub(['--prefix', root('bad'), '--no-systemd', '--bundle', tampered]);
      expect(t.stderr).toBe(`install-hub.sh: error: hub bundle checksum mismatch (got ${shaOf(bundleA)}, ${tampered}.sha256 says ${'0'.repeat(64)}): refusing to install it\n`);
      expect(existsSync(root('bad'))).toBe(false);
      const foreign = join(dir, 'foreign.tgz');
      spawnSync('tar', ['-czf', foreign, '-C', dir, 'hub.crt']);
      const f = await runInstallHub(['--prefix', root('foreign'), '--no-systemd', '--bundle', foreign]);
      expect(f.stderr).toBe(`install-hub.sh: error: ${foreign} is not a hub bundle (no bin/foundry.js, runtime/bin/node or hub/dashboard/ui): build it with scripts/build-hub-bundle.mjs\n`);
      expect(f.code).toBe(1);
      expect(existsSync(root('foreign'))).toBe(false);
    });

    it('a dry run changes nothing; uninstall keeps the data dir, --purge removes it and leaves nothing', async () => {
      const dry = await runInstallHub(['--bundle', bundleA, '--prefix', root('c'), '--no-systemd', '--dry-run', '--port', '65535']);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toContain(`would write ${paths(root('c')).env} (mode 0600): FOUNDRY_HUB_OPTS="--host 127.0.0.1 --port 65535..."\n`);
      expect(dry.stdout).toContain(`would unpack ${bundleA} into ${join(root('c'), 'opt', 'foundry-hub', 'releases', shaOf(bundleA))}\n`);
      expect(dry.stdout).toContain('dry run: nothing was changed');
      expect(filesUnder(root('c'))).toEqual([]);

      const r = await runInstallHub(['--bundle', bundleA, '--prefix', root('c')]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`wrote ${join(root('c'), 'etc', 'systemd', 'system', 'foundry-hub.service')}\n`);
      expect(r.stdout).toContain('installed under');
      writeFileSync(join(paths(root('c')).varDir, 'hub.db'), 'data');
      const u = await runInstallHub(['--uninstall', '--prefix', root('c')]);
      expect(u.code, u.stderr).toBe(0);
      expect(u.stdout).toContain(`kept ${paths(root('c')).varDir} (hub.db, the hosted infra repo, keys, backups; --purge removes it)`);
      expect(filesUnder(root('c'))).toEqual(['var/lib/foundry-hub/hub.db']);
      const purge = await runInstallHub(['--uninstall', '--purge', '--prefix', root('c')]);
      expect(purge.code, purge.stderr).toBe(0);
      expect(readdirSync(root('c'))).toEqual([]);
    });
  });

  describeIf(toolsPresent('sh', 'systemd-analyze'), 'systemd-analyze', 'apt-get install -y --no-install-recommends systemd')('the systemd unit install-hub.sh writes', () => {
    it('passes systemd-analyze verify with no finding about the unit, and is hardened (systemd-analyze security: exposure at most 2)', () => {
      const dir = mkdtempSync(join(tmpdir(), 'foundry-hub-unit-'));
      try {
        const unit = spawnSync('sh', [join('install-hub.sh'), '--print-unit', '--prefix', join(dir, 'root')], { encoding: 'utf8' });
        expect(unit.status).toBe(0);
        for (const line of ['User=foundry-hub', 'NoNewPrivileges=yes', 'ProtectSystem=strict', `ReadWritePaths=${join(dir, 'root', 'var', 'lib', 'foundry-hub')}`, 'ProtectHome=yes', 'PrivateTmp=yes', 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE', `EnvironmentFile=${join(dir, 'root', 'etc', 'foundry-hub', 'hub.env')}`]) {
          expect(unit.stdout.split('\n')).toContain(line);
        }
        const file = join(dir, 'foundry-hub.service');
        writeFileSync(file, unit.stdout);
        // verify checks that ExecStart's program exists: put the bundle's runtime where install-hub.sh would.
        const runtimeBin = join(dir, 'root', 'opt', 'foundry-hub', 'current', 'runtime', 'bin');
        mkdirSync(runtimeBin, { recursive: true });
        writeFileSync(join(runtimeBin, 'node'), '#!/bin/sh\n');
        chmodSync(join(runtimeBin, 'node'), 0o755);
        const verify = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
        expect(verify.status).toBe(0);
        expect(`${verify.stdout}${verify.stderr}`.split('\n').filter((l) => l.includes('foundry-hub.service'))).toEqual([]);
        // Exposure as systemd rates it (0 best, 10 worst; the agent's root unit is about 6): at most 2.
        const security = spawnSync('systemd-analyze', ['security', '--offline=true', file], { encoding: 'utf8' });
        const score = /Overall exposure level for foundry-hub\.service: (\d+\.\d+)/.exec(security.stdout);
        expect(score, security.stdout + security.stderr).not.toBeNull();
        expect(Number(score![1])).toBeLessThanOrEqual(2);
        // The check can fail: a misspelt key is a finding.
        writeFileSync(file, unit.stdout.replace('NoNewPrivileges=yes', 'NoNewPrivilege=yes'));
        const bad = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
        expect(`${bad.stdout}${bad.stderr}`).toContain('foundry-hub.service');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describeIf(toolsPresent('shellcheck'), 'shellcheck', 'apt-get install -y shellcheck')('install-hub.sh lint', () => {
    it('install-hub.sh is shellcheck-clean (POSIX sh)', () => {
      const r = spawnSync('shellcheck', ['--shell=sh', 'install-hub.sh'], { encoding: 'utf8' });
      expect(r.stdout).toBe('');
      expect(r.status).toBe(0);
    });
  });
});

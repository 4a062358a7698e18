/**
 * install-hub.sh as an operator runs it: as root, without --prefix, in a clean Debian 12 root file system
 * (debootstrap minbase, through chroot, no Node.js, no systemd). --install-deps brings git and ssh-keygen
 * from Debian's packages, the installer creates the user foundry-hub and its data dir, and the hub runs
 * through the launcher as that user with the bundled runtime; a rerun changes nothing; --purge removes
 * the user and the data.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describeIf, describeIfBuilt } from '../support/requires.js';
import { canChroot, copyRootfs, ensureBookwormRootfs, inChroot, noMountsUnder, startInChroot } from '../enroll/debian-root.js';
import { buildHubBundle, INSTALL_HUB_SH } from './support.js';

const describeChroot = describeIf(canChroot(), 'root, debootstrap, chroot and unshare', 'apt-get install -y debootstrap and run the tests as root (they chroot into a Debian 12 root file system)');

describeIfBuilt('dist/cli/foundry.js')('install-hub.sh (built package)', () => {
  describeChroot('install-hub.sh in a clean Debian 12 root file system (chroot)', () => {
    let work: string;
    let root: string;
    let hub: ChildProcess | undefined;

    beforeAll(async () => {
      const cached = await ensureBookwormRootfs();
      work = mkdtempSync('/var/tmp/foundry-hub-debian12-');
      root = join(work, 'root');
      await copyRootfs(cached, root);
      const bundle = buildHubBundle(join(work, 'bundle'));
      copyFileSync(bundle, join(root, 'root', 'foundry-hub.tgz'));
      copyFileSync(`${bundle}.sha256`, join(root, 'root', 'foundry-hub.tgz.sha256'));
      copyFileSync(INSTALL_HUB_SH, join(root, 'root', 'install-hub.sh'));
    }, 300_000);

    afterAll(async () => {
      if (hub !== undefined && hub.exitCode === null) {
        hub.kill('SIGKILL');
        await new Promise((r) => hub!.on('close', r));
      }
      // The mounts lived in the chroots' own mount namespaces; check anyway before removing anything.
      if (work !== undefined && noMountsUnder(work)) rmSync(work, { recursive: true, force: true });
    });

    const passwd = (): string | undefined => readFileSync(join(root, 'etc', 'passwd'), 'utf8').split('\n').find((l) => l.startsWith('foundry-hub:'));

    it('installs with its packages, creates foundry-hub, and the hub runs as that user; a rerun changes nothing; --purge removes all', async () => {
      expect(passwd()).toBeUndefined();
      const r = await inChroot(root, 'sh /root/install-hub.sh --bundle /root/foundry-hub.tgz --install-deps --port 0 --public-url https://hub.example.eu');
      expect(r.stderr.split('\n').filter((l) => l.includes('install-hub.sh'))).toEqual([]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('install-hub.sh: creating the system user foundry-hub\n');
      expect(r.stdout).toContain('install-hub.sh: systemctl not found: start the hub yourself with /usr/local/bin/foundry-hub start\n');
      const [, , uid, gid, , home, shell] = passwd()!.split(':');
      expect([home, shell]).toEqual(['/var/lib/foundry-hub', '/usr/sbin/nologin']);
      const data = statSync(join(root, 'var', 'lib', 'foundry-hub'));
      expect([data.uid, data.gid, data.mode & 0o777]).toEqual([Number(uid), Number(gid), 0o750]);
      const env = statSync(join(root, 'etc', 'foundry-hub', 'hub.env'));
      expect([env.uid, env.mode & 0o777]).toEqual([0, 0o600]);
      expect(readFileSync(join(root, 'etc', 'systemd', 'system', 'foundry-hub.service'), 'utf8')).toContain('\nUser=foundry-hub\nGroup=foundry-hub\n');

      // The launcher, as root, runs the hub as foundry-hub (setpriv) with the bundled runtime.
      hub = startInChroot(root, 'exec /usr/local/bin/foundry-hub start');
      let log = '';
      const url = await new Promise<string>((resolve, reject) => {
        const onData = (d: Buffer): void => {
          log += d.toString();
          const m = /^foundry hub listening on (\S+)$/m.exec(log);
          if (m !== null) resolve(m[1]!);
        };
        hub!.stdout!.on('data', onData);
        hub!.stderr!.on('data', onData);
        hub!.on('close', (code) => reject(new Error(`the hub exited with ${code}:\n${log}`)));
      });
      const res = await fetch(`${url}/healthz`);
      expect(await res.json()).toEqual({ status: 'ok' });
      expect(readFileSync(`/proc/${hub.pid}/status`, 'utf8')).toMatch(new RegExp(`\\nUid:\\t${uid}\\t${uid}\\t${uid}\\t${uid}\\n`));
      expect(readFileSync(`/proc/${hub.pid}/cmdline`, 'utf8').split('\0').slice(0, 2)).toEqual([`/opt/foundry-hub/current/runtime/bin/node`, '/opt/foundry-hub/current/bin/foundry.js']);
      expect(statSync(join(root, 'var', 'lib', 'foundry-hub', 'hub.db')).uid).toBe(Number(uid));
      const token = await inChroot(root, '/usr/local/bin/foundry-hub admin-token create --label ops');
      expect(token.code, token.stderr).toBe(0);
      const nodes = await fetch(`${url}/api/v1/nodes`, { headers: { authorization: `Bearer ${token.stdout.trim()}` } });
      expect(nodes.status).toBe(200);

      const again = await inChroot(root, 'sh /root/install-hub.sh --bundle /root/foundry-hub.tgz');
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain('install-hub.sh: nothing changed\n');

      hub.kill('SIGTERM');
      expect(await new Promise((r) => hub!.on('close', r))).toBe(0);

      const purge = await inChroot(root, 'sh /root/install-hub.sh --uninstall --purge');
      expect(purge.code, purge.stderr).toBe(0);
      expect(passwd()).toBeUndefined();
      for (const p of ['var/lib/foundry-hub', 'opt/foundry-hub', 'etc/foundry-hub', 'usr/local/bin/foundry-hub', 'etc/systemd/system/foundry-hub.service']) {
        expect(() => statSync(join(root, p)), p).toThrow();
      }
    });
  });
});

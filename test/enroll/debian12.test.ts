/**
 * A node needs nothing installed by hand: `curl -fsSL HUB/install.sh | sh -s -- --join TOKEN --install-deps`
 * in a clean Debian 12 root file system (debootstrap minbase, plus curl) that has no Node.js, through
 * chroot against a hub on loopback. apt inside the chroot installs the node packages from the same Debian
 * mirror debootstrap used (its downloads are cached between runs), the bundle brings its own Node.js, the
 * node enrolls, and the agent runs in the chroot with the bundled runtime and connects to the hub.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describeIf } from '../support/requires.js';
import { waitFor } from '../hub/support.js';
import { api, newToken, startEnrollHub, type EnrollHub } from './support.js';
import { canChroot, copyRootfs, ensureBookwormRootfs, inChroot, noMountsUnder, startInChroot } from './debian-root.js';

const describeChroot = describeIf(canChroot(), 'root, debootstrap, chroot and unshare', 'apt-get install -y debootstrap and run the tests as root (they chroot into a Debian 12 root file system)');
const PACKAGES = readFileSync('scripts/node-packages.txt', 'utf8')
  .split('\n')
  .map((l) => l.replace(/#.*/, '').trim())
  .filter((l) => l !== '');

describeChroot('install.sh in a clean Debian 12 root file system (chroot)', () => {
  let h: EnrollHub;
  let work: string;
  let root: string;

  beforeAll(async () => {
    const cached = await ensureBookwormRootfs();
    work = mkdtempSync('/var/tmp/foundry-debian12-');
    root = join(work, 'root');
    await copyRootfs(cached, root);
    h = await startEnrollHub();
  }, 300_000);

  afterAll(async () => {
    await h?.close();
    // The mounts lived in the chroots' own mount namespaces; check anyway before removing anything.
    if (work !== undefined && noMountsUnder(work)) rmSync(work, { recursive: true, force: true });
  });

  it('the root file system has no Node.js', async () => {
    const r = await inChroot(root, 'command -v node nodejs; dpkg -s nodejs');
    expect(r.stdout).toBe('');
    expect(r.code).not.toBe(0);
    expect(readFileSync(join(root, 'etc', 'debian_version'), 'utf8')).toMatch(/^12\./);
  });

  it('enrolls with curl | sh --install-deps: the node packages come from apt, Node.js from the bundle', async () => {
    const t = await newToken(h);
    const r = await inChroot(root, 'curl -fsSL "$1/install.sh" | sh -s -- --join "$2" --install-deps --no-systemd --name deb12', [h.hub.url, t.token]);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain(`installing the node packages: ${PACKAGES.join(' ')}`);
    expect(r.stdout).toMatch(/bundled runtime: node \d+\.\d+\.\d+ x64 abi \d+/);
    expect(r.stdout).toContain('enrolled as deb12; nodes/deb12.yaml committed');
    expect(r.stdout).toContain('done (changed: bundle enrollment launcher)');

    // Every package of the list is installed, and still no Node.js outside the bundle.
    const pkgs = await inChroot(root, 'dpkg-query -W -f "\\${Package} \\${db:Status-Status}\\n" "$@"', PACKAGES);
    expect(pkgs.stdout.trim().split('\n').sort()).toEqual(PACKAGES.map((p) => `${p} installed`).sort());
    const node = await inChroot(root, 'command -v node nodejs; find / -xdev \\( -name node -o -name nodejs \\) -type f');
    expect(node.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^\/opt\/foundry\/releases\/[0-9a-f]{64}\/runtime\/bin\/node$/)]);

    const version = await inChroot(root, 'foundry --version');
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  }, 300_000);

  it('the agent runs in the chroot with the bundled runtime and the hub lists the node as connected', async () => {
    // No Podman service runs in the chroot: the agent reports the runtime unavailable, and still links up.
    const agent = startInChroot(root, 'exec foundry agent run --config /etc/foundry/agent.yaml');
    let log = '';
    agent.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    agent.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    try {
      const nodeState = async (): Promise<{ state: string; connected: boolean } | undefined> => ((await api(h, 'GET', '/api/v1/nodes')).body.nodes as Array<{ name: string; state: string; connected: boolean }>).find((n) => n.name === 'deb12');
      await waitFor(async () => (await nodeState())?.connected, 60_000, `deb12 connected; agent log:\n${log}`);
      expect(await nodeState()).toMatchObject({ state: 'active', connected: true });
      // The process is the bundle's node binary, seen from the host.
      expect(readlinkSync(`/proc/${agent.pid}/exe`)).toMatch(new RegExp(`^${root}/opt/foundry/releases/[0-9a-f]{64}/runtime/bin/node$`));
      await waitFor(() => log.includes('"event":"reconciled"'), 60_000, `a reconcile; agent log:\n${log}`);
    } finally {
      // An agent that already exited (it failed to start) has nothing left to wait for.
      if (agent.exitCode === null && agent.signalCode === null) {
        const closed = new Promise((r) => agent.on('close', r));
        agent.kill('SIGTERM');
        await closed;
      }
    }
  }, 180_000);
});

/**
 * install.sh for real against a hub on loopback (http): fresh install, second run changes nothing, token
 * replay / expiry / revocation / taken name refused, dry run, plain http to a non-loopback hub refused,
 * tampered bundle refused, uninstall leaves nothing; the node file is a foundry-hub commit in the hosted repo.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describeIf } from '../support/requires.js';
import { startTestHub, waitFor } from '../hub/support.js';
import { api, filesUnder, newToken, runInstall, snapshot, startEnrollHub, toolsPresent, INSTALL_SH, FAKE_SMI, type EnrollHub, type Json } from './support.js';
import { createJoinToken } from '../../hub/enroll/join-tokens.js';
import { encodeJoinToken } from '../../common/enroll/token-format.js';

const tools = ['sh', 'curl', 'tar', 'sha256sum', 'base64', 'git', 'podman'];
const describeInstall = describeIf(toolsPresent(...tools), tools.join(', '), 'apt-get install -y curl git podman (install.sh checks for them)');

const uname = (): string => spawnSync('uname', ['-m'], { encoding: 'utf8' }).stdout.trim();

describeInstall('install.sh against a loopback hub', () => {
  let h: EnrollHub;
  let roots: string;
  const root = (name: string): string => join(roots, name);
  /** A folder of stand-in commands that print the given text (an empty text: fail), to put first in PATH. */
  const fakeBin = (fakes: Record<string, string>): string => {
    const dir = mkdtempSync(join(roots, 'fake-bin-'));
    for (const [name, out] of Object.entries(fakes)) {
      writeFileSync(join(dir, name), out === '' ? '#!/bin/sh\nexit 1\n' : `#!/bin/sh\necho '${out}'\n`);
      chmodSync(join(dir, name), 0o755);
    }
    return dir;
  };

  beforeAll(async () => {
    h = await startEnrollHub();
    roots = mkdtempSync(join(tmpdir(), 'foundry-install-'));
  });
  afterAll(async () => {
    await h?.close();
    if (roots !== undefined) rmSync(roots, { recursive: true, force: true });
  });

  const git = (...args: string[]): string => spawnSync('git', ['--git-dir', h.repoDir, ...args], { encoding: 'utf8' }).stdout.trim();
  const tokenUses = async (id: string): Promise<number> => ((await api(h, 'GET', '/api/v1/join-tokens')).body.tokens as Array<{ id: string; uses: number }>).find((t) => t.id === id)!.uses;

  it('installs and enrolls a fresh node: config and credential 0600, node file committed by foundry-hub, node pending', async () => {
    const t = await newToken(h, { labels: { zone: 'fsn1', rack: 'r7' } });
    expect(t.installCommand).toBe(`curl -fsSL ${h.hub.url}/install.sh | sh -s -- --join ${t.token}`);
    const r = await runInstall(['--join', t.token, '--prefix', root('a'), '--no-systemd', '--name', 'gpu-07'], { FOUNDRY_NVIDIA_SMI: FAKE_SMI });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('enrolled as gpu-07; nodes/gpu-07.yaml committed');
    expect(r.stdout).toMatch(/bundled runtime: node \d+\.\d+\.\d+ \S+ abi \d+\n/);
    expect(r.stdout).toContain('done (changed: bundle enrollment launcher)');

    const etc = join(root('a'), 'etc', 'foundry');
    expect(statSync(join(etc, 'agent.yaml')).mode & 0o777).toBe(0o600);
    expect(statSync(join(etc, 'credential')).mode & 0o777).toBe(0o600);
    const config = parse(readFileSync(join(etc, 'agent.yaml'), 'utf8'));
    expect(config).toEqual({
      node: 'gpu-07',
      repo: { url: `${h.hub.url}/git/infra.git` },
      hub: { url: h.hub.url, credentialFile: join(etc, 'credential') },
      stateDir: join(root('a'), 'var', 'lib', 'foundry', 'agent'),
      cacheDir: join(root('a'), 'var', 'lib', 'foundry', 'cache'),
    });
    const credential = readFileSync(join(etc, 'credential'), 'utf8').trim();
    expect((await h.hub.store.authenticateNode(credential))).toEqual({ ok: true, node: 'gpu-07' });

    // The installed CLI runs from the bundle with the bundled runtime, through the launcher.
    const opt = join(root('a'), 'opt', 'foundry');
    expect(readFileSync(join(root('a'), 'usr', 'local', 'bin', 'foundry'), 'utf8')).toContain(`\nexec "${opt}/current/runtime/bin/node" "${opt}/current/bin/foundry.js" "$@"\n`);
    const version = spawnSync(join(root('a'), 'usr', 'local', 'bin', 'foundry'), ['--version'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
    expect(spawnSync(join(opt, 'current', 'runtime', 'bin', 'node'), ['-p', 'process.version'], { encoding: 'utf8' }).stdout.trim()).toBe(process.version);

    expect(git('log', '-1', '--format=%an|%s', '--', 'nodes/gpu-07.yaml')).toBe(`foundry-hub|enroll node gpu-07 (profile gpu-node, join token ${t.id})`);
    const nodeDoc = parse(git('show', 'HEAD:nodes/gpu-07.yaml'));
    expect(nodeDoc.metadata).toEqual({ name: 'gpu-07' });
    expect(nodeDoc.spec.profile).toBe('gpu-node');
    expect(nodeDoc.spec.labels).toEqual({ zone: 'fsn1', rack: 'r7' });
    expect(nodeDoc.spec.gpus).toEqual([{ uuid: 'GPU-00000000-0000-0000-0000-000000000000', model: 'NVIDIA H100 80GB HBM3', pciAddress: '0000:00:09.0' }]);

    const nodes = (await api(h, 'GET', '/api/v1/nodes')).body.nodes as Array<Record<string, Json>>;
    const node = nodes.find((n) => n.name === 'gpu-07')!;
    expect(node.state).toBe('pending');
    expect(node.enrollment.tokenId).toBe(t.id);
    expect(node.enrollment.labels).toEqual({ zone: 'fsn1', rack: 'r7' });
    expect(await tokenUses(t.id)).toBe(1);
    const listed = (await api(h, 'GET', '/api/v1/join-tokens')).body.tokens.find((x: { id: string }) => x.id === t.id);
    expect(listed).toMatchObject({ state: 'used-up', uses: 1, maxUses: 1, nodes: ['gpu-07'] });
    expect(JSON.stringify(listed)).not.toContain(t.token.split('.')[0]);

    // A second run, even with the spent token, changes nothing: same files, same bytes, same mtimes.
    const before = snapshot(root('a'));
    const again = await runInstall(['--join', t.token, '--prefix', root('a'), '--no-systemd', '--name', 'gpu-07']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already enrolled');
    expect(again.stdout).toContain('nothing changed');
    expect(snapshot(root('a'))).toEqual(before);
    expect(await tokenUses(t.id)).toBe(1);
  });

  it('the installed agent runs from the bundle with the written config: it connects with its credential and the node turns active', async () => {
    // The written config, with Podman pointed at nothing: this test must not touch the host's containers.
    const config = { ...parse(readFileSync(join(root('a'), 'etc', 'foundry', 'agent.yaml'), 'utf8')), podman: { socketPath: join(roots, 'no-podman.sock') } };
    const configFile = join(roots, 'agent-no-podman.yaml');
    writeFileSync(configFile, stringify(config), { mode: 0o600 });
    const agent = spawn(join(root('a'), 'usr', 'local', 'bin', 'foundry'), ['agent', 'run', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    agent.stdout.on('data', (d: Buffer) => (log += d.toString()));
    agent.stderr.on('data', (d: Buffer) => (log += d.toString()));
    try {
      const stateOf = async (): Promise<unknown> => ((await api(h, 'GET', '/api/v1/nodes')).body.nodes as Array<{ name: string; state: string; connected: boolean }>).find((n) => n.name === 'gpu-07');
      await waitFor(async () => ((await stateOf()) as { state: string; connected: boolean }).connected, 60_000, `gpu-07 connected; agent log:\n${log}`);
      expect(await stateOf()).toMatchObject({ state: 'active', connected: true });
      // It also read the hosted repo with its credential: the revision it applied is the enrollment commit or later.
      await waitFor(() => log.includes('"event":"reconciled"'), 60_000, 'a reconcile');
      expect(log).toContain(`"revision":"${git('rev-parse', 'HEAD')}"`);
    } finally {
      agent.kill('SIGTERM');
      await new Promise((r) => agent.on('close', r));
    }
  });

  it('an install by an older installer (a symlink to foundry.js) gets the launcher; foundry.js stays as it is', async () => {
    const link = join(root('a'), 'usr', 'local', 'bin', 'foundry');
    const cli = join(root('a'), 'opt', 'foundry', 'current', 'bin', 'foundry.js');
    const before = readFileSync(cli);
    rmSync(link);
    symlinkSync(cli, link);
    const r = await runInstall(['--join', 'fjt_unused', '--hub', h.hub.url, '--prefix', root('a'), '--no-systemd']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('done (changed: launcher)');
    expect(lstatSync(link).isSymbolicLink()).toBe(false);
    expect(readFileSync(cli).equals(before)).toBe(true);
  });

  it('the bundle carries the runtime, its platform and the agent\'s one native addon, without build leftovers', async () => {
    const dir = join(h.dir, 'hub', 'agent-bundle');
    const list = spawnSync('tar', ['-tzf', join(dir, 'foundry-agent.tgz')], { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout.split('\n');
    expect(list).toEqual(expect.arrayContaining(['runtime/bin/node', 'runtime/platform', 'runtime/check.cjs', 'bin/foundry.js', 'node_modules/better-sqlite3/build/Release/better_sqlite3.node']));
    expect(list.filter((f) => f.endsWith('.node'))).toEqual(['node_modules/better-sqlite3/build/Release/better_sqlite3.node']);
    expect(list.filter((f) => /better-sqlite3\/(deps|src)\/|\/obj(\.target)?\/|\.a$/.test(f))).toEqual([]);
    const platform = readFileSync(join(dir, 'foundry-agent.platform'), 'utf8');
    expect(platform).toMatch(new RegExp(`^os=linux\nmachine=${uname()}\narch=${process.arch}\nlibc=glibc\nglibc=2\\.\\d+\nnode=${process.versions.node}\nmodules=${process.versions.modules}\n$`));
    const res = await fetch(`${h.hub.url}/agent/foundry-agent.platform`);
    expect(await res.text()).toBe(platform);
  });

  it('refuses a node of another architecture or C library before downloading anything, naming both', async () => {
    const platform = readFileSync(join(h.dir, 'hub', 'agent-bundle', 'foundry-agent.platform'), 'utf8');
    const glibc = /^glibc=(.*)$/m.exec(platform)![1];
    const cases: Array<[Record<string, string>, string]> = [
      [{ uname: 'aarch64' }, `this node is aarch64 but the hub's agent bundle is for ${uname()} (it carries the hub's own Node.js runtime): enroll aarch64 nodes from a hub that runs on aarch64`],
      [{ getconf: 'glibc 2.17' }, `this node has glibc 2.17 but the hub's agent bundle needs glibc >= ${glibc}`],
      [{ getconf: '', ldd: 'musl libc (x86_64)' }, `this node's C library is musl but the hub's agent bundle needs glibc >= ${glibc}`],
    ];
    for (const [fakes, message] of cases) {
      const t = await newToken(h);
      const r = await runInstall(['--join', t.token, '--prefix', root('arch'), '--no-systemd', '--name', 'arch-1'], { PATH: `${fakeBin(fakes)}:${process.env.PATH}` });
      expect(r.stderr).toBe(`install.sh: error: ${message}\n`);
      expect(r.code).toBe(1);
      expect(existsSync(root('arch'))).toBe(false);
      expect(await tokenUses(t.id)).toBe(0);
    }
  });

  it("says why a hub cannot serve the bundle, with the hub's own message", async () => {
    const broken = await startTestHub({ enroll: { dataDir: join(roots, 'broken-hub'), packageRoot: join(roots, 'not-a-package') } });
    try {
      const r = await runInstall(['--join', 'fjt_x', '--hub', broken.url, '--prefix', root('broken'), '--no-systemd']);
      expect(r.stderr).toBe(`install.sh: error: the hub cannot serve the agent bundle (http 503: cannot build the agent bundle: the package is not built (run npm run build))\n`);
      expect(r.code).toBe(1);
      expect(existsSync(root('broken'))).toBe(false);
    } finally {
      await broken.close();
    }
  });

  it('--install-deps installs exactly scripts/node-packages.txt (no nodejs), with --no-install-recommends', async () => {
    const listed = readFileSync('scripts/node-packages.txt', 'utf8').split('\n').map((l) => l.replace(/#.*/, '').trim()).filter((l) => l !== '');
    const declared = /^NODE_PACKAGES="([^"]*)"$/m.exec(readFileSync(INSTALL_SH, 'utf8'))![1]!.split(' ');
    expect(declared).toEqual(listed);
    expect(listed).not.toContain('nodejs');
    const t = await newToken(h);
    const r = await runInstall(['--join', t.token, '--prefix', root('deps'), '--install-deps', '--dry-run'], { PATH: `${fakeBin({ 'apt-get': '' })}:${process.env.PATH}` });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`would run: env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${listed.join(' ')}\n`);
  });

  it('refuses a replayed token on another node and leaves that node untouched', async () => {
    const t = await newToken(h);
    const first = await runInstall(['--join', t.token, '--prefix', root('b1'), '--no-systemd', '--name', 'replay-1']);
    expect(first.code, first.stderr).toBe(0);
    const r = await runInstall(['--join', t.token, '--prefix', root('b2'), '--no-systemd', '--name', 'replay-2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the hub refused the enrollment (http 403): join token ${t.id} is used-up`);
    expect(r.stderr).toContain('enrollment failed (see above); nothing was installed');
    expect(filesUnder(root('b2'))).toEqual([]);
    expect(git('log', '--format=%s', '--', 'nodes/replay-2.yaml')).toBe('');
  });

  it('refuses an expired token (created two hours ago with a one-hour ttl)', async () => {
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    const old = await createJoinToken(h.hub.store.joinTokens, { ttlMs: 3600_000, uses: 1, profile: 'gpu-node', labels: {}, createdBy: 'test' }, twoHoursAgo);
    const token = encodeJoinToken({ secret: old.secret, pin: undefined, hubUrl: h.hub.url });
    const r = await runInstall(['--join', token, '--prefix', root('c'), '--no-systemd', '--name', 'late-1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`join token ${old.id} is expired`);
    expect(filesUnder(root('c'))).toEqual([]);
  });

  it('refuses a revoked token and a node name already enrolled (the token stays unused)', async () => {
    const revoked = await newToken(h);
    expect((await api(h, 'POST', `/api/v1/join-tokens/${revoked.id}/revoke`)).status).toBe(200);
    const r1 = await runInstall(['--join', revoked.token, '--prefix', root('d1'), '--no-systemd', '--name', 'rev-1']);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toContain(`join token ${revoked.id} is revoked`);

    const t = await newToken(h);
    const fileBefore = git('show', 'HEAD:nodes/gpu-07.yaml');
    const r2 = await runInstall(['--join', t.token, '--prefix', root('d2'), '--no-systemd', '--name', 'gpu-07']);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain('(http 409): node name gpu-07 is already enrolled');
    expect(git('show', 'HEAD:nodes/gpu-07.yaml')).toBe(fileBefore);
    expect(await tokenUses(t.id)).toBe(0);
    expect(filesUnder(root('d2'))).toEqual([]);
  });

  it('--dry-run prints the plan and changes nothing (the token is not used)', async () => {
    const t = await newToken(h);
    const r = await runInstall(['--join', t.token, '--prefix', root('e'), '--dry-run', '--name', 'dry-1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`would download ${h.hub.url}/agent/foundry-agent.tgz`);
    expect(r.stdout).toContain('would enroll with the join token');
    expect(r.stdout).toContain('dry run: nothing was changed');
    expect(existsSync(root('e'))).toBe(false);
    expect(await tokenUses(t.id)).toBe(0);
  });

  it('refuses plain http to a hub that is not on loopback unless --insecure, and malformed tokens', async () => {
    const t = await newToken(h);
    const r = await runInstall(['--join', t.token, '--hub', 'http://192.0.2.10:8080', '--prefix', root('f'), '--no-systemd']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('install.sh: error: refusing plain http to 192.0.2.10: use https, or --insecure on a trusted network\n');
    const bad = await runInstall(['--join', 'fjt_$(touch /tmp/x)', '--prefix', root('f'), '--no-systemd']);
    expect(bad.stderr).toBe('install.sh: error: malformed join token: unexpected characters\n');
    expect(existsSync(root('f'))).toBe(false);
  });

  it('the served /install.sh is the file in the repo, byte for byte', async () => {
    const res = await fetch(`${h.hub.url}/install.sh?x=$(reboot)`, { headers: { host: 'evil.example' } });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(INSTALL_SH))).toBe(true);
  });

  it('uninstall keeps workload data; --purge leaves nothing behind', async () => {
    const r = await runInstall(['--uninstall', '--prefix', root('b1')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('kept');
    expect(filesUnder(root('b1'))).toEqual([]);
    expect(existsSync(join(root('b1'), 'var', 'lib', 'foundry'))).toBe(true);
    const p = await runInstall(['--uninstall', '--purge', '--prefix', root('a')]);
    expect(p.code).toBe(0);
    expect(existsSync(root('a')) ? snapshot(root('a')) : new Map()).toEqual(new Map());
  });

  // Last: it spoils the hub's cached bundle.
  it('refuses a tampered bundle (checksum mismatch) and enrolls nothing', async () => {
    const bundle = join(h.dir, 'hub', 'agent-bundle', 'foundry-agent.tgz');
    const bytes = readFileSync(bundle);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 100) ^ 0xff, bytes.length - 100);
    writeFileSync(bundle, bytes);
    const t = await newToken(h);
    const r = await runInstall(['--join', t.token, '--prefix', root('g'), '--no-systemd', '--name', 'tamper-1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^install\.sh: error: agent bundle checksum mismatch \(got [0-9a-f]{64}, the hub published [0-9a-f]{64}\): refusing to install it\n$/);
    expect(filesUnder(root('g'))).toEqual([]);
    expect(await tokenUses(t.id)).toBe(0);
  });
});

/**
 * scripts/host-setup.sh --check (scripts/host-check.sh) names each missing piece of the host with what to
 * install, against the real Podman: a containers.conf pointing at CNI, helper binaries missing from the
 * helper dirs and PATH. scripts/containers-conf.sh pins runc, no default ulimits and netavark in a
 * containers.conf that already exists, keeping everything else, and changes nothing on a second run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { describeIf } from '../support/requires.js';
import { podmanAvailable, PODMAN_HOW } from '../support/podman.js';

const CHECK = join(PACKAGE_ROOT, 'scripts', 'host-setup.sh');
const CONF = join(PACKAGE_ROOT, 'scripts', 'containers-conf.sh');

function check(env: NodeJS.ProcessEnv): { code: number; out: string } {
  const r = spawnSync('bash', [CHECK, '--check'], { env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/** The lines of one section (`--- podman`) of the check's output. */
function section(out: string, name: string): string[] {
  const lines = out.split('\n');
  const start = lines.indexOf(`--- ${name}`);
  const end = lines.findIndex((l, i) => i > start && l.startsWith('--- '));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

describe('containers-conf.sh', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'fc-conf-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('pins the three keys in an existing file, keeping the rest, and is idempotent', () => {
    const file = join(dir, 'containers.conf');
    writeFileSync(file, ['# mine', '[containers]', 'log_driver = "k8s-file"', 'default_ulimits = [', '  "nofile=1024:2048",', ']', '', '[engine] # runtimes', 'runtime = "crun"', '', '[network]', '#network_backend = "cni"', 'network_backend = "cni"', '[secrets]', 'driver = "file"', ''].join('\n'));
    expect(spawnSync('bash', [CONF, file]).status).toBe(0);
    const once = readFileSync(file, 'utf8');
    expect(once).toBe(['# mine', '[containers]', 'log_driver = "k8s-file"', 'default_ulimits = []', '', '[engine] # runtimes', 'runtime = "runc"', '', '[network]', '#network_backend = "cni"', 'network_backend = "netavark"', '[secrets]', 'driver = "file"', ''].join('\n'));
    expect(spawnSync('bash', [CONF, file]).status).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(once);
  });

  it('adds missing keys and sections, and creates a missing file', () => {
    const file = join(dir, 'partial.conf');
    writeFileSync(file, '[engine]\nevents_logger = "file"\n');
    expect(spawnSync('bash', [CONF, file]).status).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('[engine]\nevents_logger = "file"\nruntime = "runc"\n\n[containers]\ndefault_ulimits = []\n\n[network]\nnetwork_backend = "netavark"\n');
    const fresh = join(dir, 'sub', 'new.conf');
    expect(spawnSync('bash', [CONF, fresh]).status).toBe(0);
    expect(readFileSync(fresh, 'utf8')).toBe('[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n\n[network]\nnetwork_backend = "netavark"\n');
  });
});

describeIf(podmanAvailable(), 'podman', PODMAN_HOW)('host-setup.sh --check against the real podman', () => {
  let dir: string;
  let storageConf: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fc-hostcheck-'));
    // Private storage, so `podman info` neither sees nor locks the host's.
    storageConf = join(dir, 'storage.conf');
    writeFileSync(storageConf, `[storage]\ndriver = "overlay"\ngraphroot = "${join(dir, 'root')}"\nrunroot = "${join(dir, 'runroot')}"\n`);
  });
  afterAll(() => {
    for (const m of readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(`${dir}/`))) spawnSync('umount', ['-l', m]);
    rmSync(dir, { recursive: true, force: true });
  });
  const conf = (name: string, lines: string[]): string => {
    const file = join(dir, name);
    writeFileSync(file, ['[containers]', 'default_ulimits = []', '[engine]', 'runtime = "runc"', ...lines, ''].join('\n'));
    return file;
  };

  it('the podman pieces of this host are all there (and everything in CI)', () => {
    const r = check({ ...process.env, CONTAINERS_STORAGE_CONF: storageConf });
    expect(section(r.out, 'podman').filter((l) => !l.startsWith('ok:'))).toEqual([]);
    if (process.env.CI === 'true') expect(r, r.out).toMatchObject({ code: 0 });
  });

  it('names the CNI backend and how to pin netavark', () => {
    const r = check({ ...process.env, CONTAINERS_STORAGE_CONF: storageConf, CONTAINERS_CONF: conf('cni.conf', ['[network]', 'network_backend = "cni"']) });
    expect(r.code).toBe(1);
    expect(section(r.out, 'podman').filter((l) => l.startsWith('missing:'))).toEqual([
      `missing: network backend netavark (podman uses 'cni': containers of one network cannot resolve each other by name): install netavark and aardvark-dns, set [network] network_backend = "netavark" in containers.conf (sudo bash scripts/host-setup.sh does)`,
    ]);
  });

  it('names the pause binary and aardvark-dns when neither the helper dirs nor PATH have them', () => {
    const helpers = join(dir, 'helpers');
    mkdirSync(helpers);
    symlinkSync('/usr/lib/podman/netavark', join(helpers, 'netavark'));
    // PATH: everything of /usr/bin and /usr/sbin but catatonit.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const d of ['/usr/local/bin', '/usr/sbin', '/usr/bin']) {
      for (const name of readdirSync(d)) {
        if (name === 'catatonit') continue;
        try {
          symlinkSync(join(d, name), join(bin, name));
        } catch {
          // the same name in an earlier dir wins, as on PATH
        }
      }
    }
    const r = check({ ...process.env, PATH: bin, CONTAINERS_STORAGE_CONF: storageConf, CONTAINERS_CONF: conf('helpers.conf', [`helper_binaries_dir = ["${helpers}"]`]) });
    expect(r.code).toBe(1);
    expect(section(r.out, 'podman').filter((l) => l.startsWith('missing:'))).toEqual([
      `missing: catatonit (pause binary: without it 'podman pod create' fails): apt-get install -y --no-install-recommends catatonit (looked in: ${helpers})`,
      `missing: aardvark-dns (name resolution on workspace networks): apt-get install -y --no-install-recommends aardvark-dns (looked in: ${helpers})`,
    ]);
    expect(r.out).toContain(`ok:      netavark (${helpers}/netavark)`);
  });
});

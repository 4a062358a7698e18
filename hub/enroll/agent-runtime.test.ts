import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { productionPackages } from './agent-bundle.js';
import { checkScript, compareVersions, describeRuntime, formatPlatform, nativeAddons, newestGlibc, nonBaseLibraries } from './agent-runtime.js';

const ADDON = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
const withDir = <T>(fn: (dir: string) => T): T => {
  const dir = mkdtempSync(join(tmpdir(), 'foundry-runtime-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
const withDirAsync = async <T>(fn: (dir: string) => Promise<T>): Promise<T> => {
  const dir = mkdtempSync(join(tmpdir(), 'foundry-runtime-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

describe('agent runtime', () => {
  it('finds the newest GLIBC_ symbol version in ELF files, ignoring GLIBC_PRIVATE and GLIBCXX', () => {
    withDir((dir) => {
      writeFileSync(join(dir, 'a'), Buffer.from('\x7fELF\0GLIBC_2.17\0GLIBC_2.4\0GLIBC_PRIVATE\0GLIBCXX_3.4.30\0'));
      writeFileSync(join(dir, 'b'), Buffer.from('\0GLIBC_2.34\0GLIBC_2.2.5\0'));
      writeFileSync(join(dir, 'c'), Buffer.from('no versions here'));
      expect(newestGlibc([join(dir, 'a')])).toBe('2.17');
      expect(newestGlibc([join(dir, 'a'), join(dir, 'b')])).toBe('2.34');
      expect(newestGlibc([join(dir, 'c')])).toBeUndefined();
    });
    expect(compareVersions([2, 4], [2, 17])).toBeLessThan(0);
    expect(compareVersions([2, 2, 5], [2, 2])).toBeGreaterThan(0);
  });

  it('the agent needs one native addon (better-sqlite3, for its outbox), build leftovers not counted', () => {
    expect(nativeAddons(PACKAGE_ROOT, productionPackages(PACKAGE_ROOT))).toEqual([ADDON]);
  });

  it("describes this hub's runtime: self-contained, its platform in the file install.sh reads", async () => {
    expect(await nonBaseLibraries(process.execPath)).toEqual([]);
    // curl links libcurl, which a bare node may lack: the kind of runtime the bundle refuses.
    expect(await nonBaseLibraries('/usr/bin/curl')).toContain('libcurl.so.4');
    const machine = spawnSync('uname', ['-m'], { encoding: 'utf8' }).stdout.trim();
    const p = await describeRuntime(process.execPath, [join(PACKAGE_ROOT, ADDON)]);
    expect(p).toEqual({ os: 'linux', machine, arch: process.arch, libc: 'glibc', glibc: expect.stringMatching(/^2\.\d+$/), node: process.versions.node, modules: process.versions.modules });
    const hostGlibc = (process.report.getReport() as { header: { glibcVersionRuntime: string } }).header.glibcVersionRuntime;
    expect(compareVersions(p.glibc!.split('.').map(Number), hostGlibc.split('.').map(Number))).toBeLessThanOrEqual(0);
    expect(formatPlatform(p)).toBe(`os=linux\nmachine=${machine}\narch=${process.arch}\nlibc=glibc\nglibc=${p.glibc}\nnode=${process.versions.node}\nmodules=${process.versions.modules}\n`);
  });

  it('refuses a runtime that does not run', async () => {
    await withDirAsync(async (dir) => {
      const fake = join(dir, 'node');
      writeFileSync(fake, '#!/bin/sh\necho "node: cannot open shared object file libnode.so.115" >&2\nexit 127\n');
      chmodSync(fake, 0o755);
      await expect(describeRuntime(fake, [])).rejects.toThrow(`cannot build the agent bundle: the node runtime ${fake} does not run: node: cannot open shared object file libnode.so.115`);
    });
  });

  it('the check script loads the addons with the runtime it runs in, and fails on one it cannot load', () => {
    withDir((dir) => {
      mkdirSync(join(dir, 'runtime'));
      writeFileSync(join(dir, 'runtime', 'check.cjs'), checkScript([ADDON]));
      const ok = spawnSync(process.execPath, [join(dir, 'runtime', 'check.cjs'), PACKAGE_ROOT], { encoding: 'utf8' });
      expect(ok.stdout).toBe(`node ${process.versions.node} ${process.arch} abi ${process.versions.modules}\n`);
      expect(ok.status).toBe(0);
      // An addon for another ABI or machine fails to load the same way a garbage one does: dlopen refuses it.
      mkdirSync(join(dir, 'node_modules', 'x'), { recursive: true });
      writeFileSync(join(dir, 'node_modules', 'x', 'x.node'), Buffer.alloc(256, 7));
      writeFileSync(join(dir, 'runtime', 'check.cjs'), checkScript(['node_modules/x/x.node']));
      const bad = spawnSync(process.execPath, [join(dir, 'runtime', 'check.cjs')], { encoding: 'utf8' });
      expect(bad.status).not.toBe(0);
      expect(bad.stderr).toMatch(/x\.node: invalid ELF header/);
    });
  });
});

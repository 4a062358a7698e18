/**
 * The Node.js runtime the agent bundle carries: the hub's own (process.execPath), so the bundle's native
 * addons (better-sqlite3, which the agent's outbox needs) are exactly the ones the hub loads, built for
 * that runtime's ABI. A node therefore needs no Node.js of its own, but must match the runtime's platform:
 * its CPU architecture, its C library and, for glibc, at least the newest GLIBC_x.y symbol version the
 * runtime or an addon asks for. `platform` (key=value lines) says so; install.sh reads it before it
 * downloads the bundle and refuses a node it cannot run on.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { FoundryError } from '../../common/errors.js';
import { runCommand, type CommandResult } from '../../common/run-command.js';

/** What a node must be to run a bundled runtime. */
export interface RuntimePlatform {
  os: string;
  /** `uname -m` of the nodes it runs on (x86_64, aarch64...). */
  machine: string;
  /** Node's name of the same (x64, arm64...). */
  arch: string;
  libc: 'glibc' | 'musl';
  /** Oldest glibc that has every symbol version the runtime and its addons need; absent for musl. */
  glibc?: string;
  node: string;
  /** NODE_MODULE_VERSION: the ABI the addons are built for. */
  modules: string;
}

const MACHINES: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', arm: 'armv7l', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loongarch64' };

// Libraries every glibc or musl system has (libstdc++ and libgcc_s come with apt on Debian and Ubuntu).
const BASE_LIBS = /^(linux-vdso|linux-gate|ld-linux[^ ]*|ld-musl[^ ]*|libc|libm|libdl|libpthread|librt|libstdc\+\+|libgcc_s)\.so(\.[0-9.]+)?$/;

/** The newest `GLIBC_x.y` symbol version referenced in these ELF files (undefined when none). */
export function newestGlibc(files: string[]): string | undefined {
  let best: number[] | undefined;
  const tag = Buffer.from('GLIBC_2.');
  for (const f of files) {
    const buf = readFileSync(f);
    for (let i = buf.indexOf(tag); i >= 0; i = buf.indexOf(tag, i + tag.length)) {
      let end = i + 6;
      while (end < buf.length && ((buf[end]! >= 0x30 && buf[end]! <= 0x39) || buf[end] === 0x2e)) end++;
      const v = buf.toString('latin1', i + 6, end).replace(/\.$/, '').split('.').map(Number);
      if (v.some((n) => Number.isNaN(n))) continue;
      if (best === undefined || compareVersions(v, best) > 0) best = v;
    }
  }
  return best?.join('.');
}

/** Compares dotted versions given as number arrays. */
export function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Shared libraries `ldd` lists for `file` that a bare node may lack (an empty list when ldd is missing). */
export async function nonBaseLibraries(file: string): Promise<string[]> {
  const r = await runCommand('ldd', [file]).catch(() => undefined);
  if (r === undefined || r.code !== 0) return [];
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .map((l) => l.replace(/^.*\//, ''))
    .filter((l) => l !== '' && l !== 'statically' && !BASE_LIBS.test(l));
}

/** The native addons (`*.node`) under the given package folders, relative to `root`; test builds left out. */
export function nativeAddons(root: string, packageDirs: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory() && !['obj', 'obj.target', 'deps', 'src'].includes(e.name)) walk(p);
      else if (e.isFile() && e.name.endsWith('.node') && e.name !== 'test_extension.node') out.push(relative(root, p));
    }
  };
  for (const d of packageDirs) walk(join(root, d));
  return out.sort();
}

/**
 * Describes `runtime` (a node binary) with `addons` (absolute paths); refuses one a bare node could not run.
 * Asynchronous (the hub builds the bundle on the first request for it, while it serves others).
 */
export async function describeRuntime(runtime: string, addons: string[]): Promise<RuntimePlatform> {
  const r: CommandResult | Error = await runCommand(runtime, ['-p', "JSON.stringify([process.platform, process.arch, process.versions.node, process.versions.modules, process.report.getReport().header.glibcVersionRuntime ?? null])"]).catch((err: Error) => err);
  if (r instanceof Error || r.code !== 0) throw new FoundryError('RUNTIME_UNAVAILABLE', `cannot build the agent bundle: the node runtime ${runtime} does not run: ${(r instanceof Error ? String(r) : r.stderr).trim().split('\n')[0]}`);
  const [os, arch, node, modules, glibcRuntime] = JSON.parse(r.stdout) as [string, string, string, string, string | null];
  const machine = MACHINES[arch];
  if (os !== 'linux' || machine === undefined) throw new FoundryError('RUNTIME_UNAVAILABLE', `cannot build the agent bundle: nodes run Linux, and the hub's runtime is ${os}/${arch}`);
  const extra = (await Promise.all([runtime, ...addons].map((f) => nonBaseLibraries(f)))).flat();
  if (extra.length > 0) {
    throw new FoundryError('RUNTIME_UNAVAILABLE', `cannot build the agent bundle: the node runtime ${runtime} needs shared libraries a bare node lacks (${[...new Set(extra)].join(', ')}); run the hub with a self-contained Node.js build (nodejs.org or NodeSource)`);
  }
  const libc = glibcRuntime === null ? 'musl' : 'glibc';
  const glibc = libc === 'glibc' ? newestGlibc([runtime, ...addons]) : undefined;
  return { os, machine, arch, libc, ...(glibc === undefined ? {} : { glibc }), node, modules };
}

/** The `platform` file: key=value lines, the same install.sh parses. */
export function formatPlatform(p: RuntimePlatform): string {
  const keys: Array<keyof RuntimePlatform> = ['os', 'machine', 'arch', 'libc', 'glibc', 'node', 'modules'];
  return keys.filter((k) => p[k] !== undefined).map((k) => `${k}=${p[k]}\n`).join('');
}

/**
 * The check script install.sh runs with the bundled runtime before it enrolls: it loads every addon, so
 * an ABI or C library mismatch is refused on the node before anything is installed. `addons` are
 * relative to the bundle root (the script lives in runtime/; an argument names another root).
 */
export function checkScript(addons: string[]): string {
  return [
    "'use strict';",
    '// Written by the hub: loads the bundle\'s native addons with the bundled runtime (install.sh runs it).',
    "const { join } = require('node:path');",
    "const root = process.argv[2] ?? join(__dirname, '..');",
    `for (const addon of ${JSON.stringify(addons)}) require(join(root, addon));`,
    "process.stdout.write(`node ${process.versions.node} ${process.arch} abi ${process.versions.modules}\\n`);",
    '',
  ].join('\n');
}

/** Node's license beside a runtime binary (official tarballs and NodeSource/Debian packages), if any. */
export function runtimeLicense(runtime: string): string | undefined {
  const prefix = dirname(dirname(runtime));
  return [join(prefix, 'share', 'doc', 'node', 'LICENSE'), join(prefix, 'share', 'doc', 'nodejs', 'LICENSE'), join(prefix, 'LICENSE')].find((p) => existsSync(p));
}

/**
 * The agent bundle nodes install: a gzipped tarball of this package as it runs on the hub (dist/, bin/,
 * schemas/, node-profiles/, package.json, package-lock.json and the production node_modules, chosen from
 * package-lock.json) plus runtime/: the hub's own Node.js binary, its license, the `platform` it needs
 * and a check script (agent-runtime.ts). A node needs no Node.js, no npm registry and no compiler, only
 * the hub. Built once per package content and runtime into a cache folder with its SHA-256 and platform
 * in separate files; deterministic (sorted, zero mtimes and owners, gzip without a timestamp), so a
 * rebuilt bundle of the same package and runtime has the same checksum.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { FoundryError, errorMessage } from '../../common/errors.js';
import { runCommand, type CommandResult } from '../../common/run-command.js';
import { checkScript, describeRuntime, formatPlatform, nativeAddons, runtimeLicense } from './agent-runtime.js';

/** File names the hub serves under /agent/. */
export const BUNDLE_FILE = 'foundry-agent.tgz';
export const BUNDLE_SHA_FILE = `${BUNDLE_FILE}.sha256`;
/** What a node must be to run the bundle (key=value lines; agent-runtime.ts). */
export const BUNDLE_PLATFORM_FILE = 'foundry-agent.platform';

const TOP_LEVEL = ['bin', 'dist', 'schemas', 'node-profiles', 'package.json', 'package-lock.json'];
/** What the hub reads from its package besides the agent's files: the dashboard's static UI and the node installer it serves. */
const HUB_EXTRA = ['hub/dashboard/ui', 'install.sh'];
/** The hub bundle install-hub.sh installs: the agent bundle's content plus HUB_EXTRA (docs/hub-install.md). */
export const HUB_BUNDLE_FILE = 'foundry-hub.tgz';

/** A built bundle: its file, checksum file, SHA-256 hex and platform file. */
export interface AgentBundle {
  file: string;
  shaFile: string;
  sha256: string;
  platformFile: string;
}

// Build leftovers of native addons: the agent loads only the compiled *.node files.
const EXCLUDES = ['*.tsbuildinfo', '*.test.js', 'node_modules/.bin', '*/build/Release/obj', '*/build/Release/obj.target', '*/build/Release/.deps', '*/build/deps', '*/build/Release/test_extension.node', '*/build/Release/*.a', 'node_modules/better-sqlite3/deps', 'node_modules/better-sqlite3/src'];

/** The production packages of package-lock.json that are installed, outermost only (tar recurses). */
export function productionPackages(packageRoot: string): string[] {
  const lock = JSON.parse(readFileSync(join(packageRoot, 'package-lock.json'), 'utf8')) as { packages?: Record<string, { dev?: boolean }> };
  const prod = Object.entries(lock.packages ?? {})
    .filter(([path, p]) => path.startsWith('node_modules/') && p.dev !== true && existsSync(join(packageRoot, path)))
    .map(([path]) => path)
    .sort();
  const set = new Set(prod);
  return prod.filter((p) => !ancestors(p).some((a) => set.has(a)));
}

function ancestors(path: string): string[] {
  const out: string[] = [];
  let i = path.lastIndexOf('/node_modules/');
  while (i > 0) {
    out.push(path.slice(0, i));
    i = path.lastIndexOf('/node_modules/', i - 1);
  }
  return out;
}

/** A key that changes when the package content or the runtime that go into the bundle change. */
export function bundleKey(packageRoot: string, runtime: string = process.execPath, extra: readonly string[] = []): string {
  const h = createHash('sha256');
  const rs = statSync(runtime);
  h.update(`runtime\0${runtime}\0${rs.size}\0${rs.mtimeMs}\n`);
  h.update(readFileSync(join(packageRoot, 'package.json')));
  h.update(readFileSync(join(packageRoot, 'package-lock.json')));
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const s = statSync(p);
        h.update(`${relative(packageRoot, p)}\0${s.size}\0${s.mtimeMs}\n`);
      }
    }
  };
  for (const d of ['bin', 'dist', 'schemas', 'node-profiles', ...extra]) {
    const p = join(packageRoot, d);
    if (!existsSync(p)) continue;
    if (statSync(p).isDirectory()) walk(p);
    else h.update(`${d}\0${statSync(p).size}\0${statSync(p).mtimeMs}\n`);
  }
  return h.digest('hex');
}

/**
 * Builds the bundle of `packageRoot` with the Node.js binary `runtime` (default: the one running) into
 * `outDir`, unless the cached one is of the same package content and runtime. Refuses a runtime that a
 * bare node could not run or whose ABI the package's addons do not match.
 */
export async function ensureAgentBundle(packageRoot: string, outDir: string, runtime: string = process.execPath): Promise<AgentBundle> {
  return ensureBundle(packageRoot, outDir, runtime, BUNDLE_FILE, []);
}

/**
 * Builds the hub bundle (foundry-hub.tgz, its .sha256 and .platform) into `outDir` the same way: the agent
 * bundle's files and runtime plus the dashboard UI and install.sh, which a running hub serves.
 */
export async function ensureHubBundle(packageRoot: string, outDir: string, runtime: string = process.execPath): Promise<AgentBundle> {
  return ensureBundle(packageRoot, outDir, runtime, HUB_BUNDLE_FILE, HUB_EXTRA);
}

async function ensureBundle(packageRoot: string, outDir: string, runtime: string, name: string, extra: readonly string[]): Promise<AgentBundle> {
  const file = join(outDir, name);
  const shaFile = join(outDir, `${name}.sha256`);
  const platformFile = join(outDir, name.replace(/\.tgz$/, '.platform'));
  const keyFile = join(outDir, name === BUNDLE_FILE ? 'bundle.key' : `${name}.key`);
  if (!existsSync(join(packageRoot, 'dist', 'cli', 'foundry.js')) || !existsSync(join(packageRoot, 'package-lock.json'))) {
    throw new FoundryError('RUNTIME_UNAVAILABLE', 'cannot build the agent bundle: the package is not built (run npm run build)', { resource: packageRoot });
  }
  const key = bundleKey(packageRoot, runtime, extra);
  if ([file, shaFile, platformFile, keyFile].every((f) => existsSync(f)) && readFileSync(keyFile, 'utf8') === key) {
    return { file, shaFile, platformFile, sha256: readFileSync(shaFile, 'utf8').split(/\s/)[0] ?? '' };
  }
  mkdirSync(outDir, { recursive: true });
  const packages = productionPackages(packageRoot);
  const stage = join(outDir, name === BUNDLE_FILE ? 'stage' : `${name}.stage`);
  const platform = await stageRuntime(packageRoot, packages, runtime, stage);
  try {
    const sha256 = await writeTarball(packageRoot, [...[...TOP_LEVEL, ...extra].filter((p) => existsSync(join(packageRoot, p))), ...packages], stage, `${file}.tmp`);
    renameSync(`${file}.tmp`, file);
    writeFileSync(shaFile, `${sha256}  ${name}\n`);
    writeFileSync(platformFile, platform);
    writeFileSync(keyFile, key);
    return { file, shaFile, platformFile, sha256 };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** Writes runtime/ (node binary, license, platform, check script) into `stage`, checks it, returns the platform text. */
async function stageRuntime(packageRoot: string, packages: string[], runtime: string, stage: string): Promise<string> {
  const addons = nativeAddons(packageRoot, packages);
  const platform = formatPlatform(await describeRuntime(runtime, addons.map((a) => join(packageRoot, a))));
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(join(stage, 'runtime', 'bin'), { recursive: true });
  copyFileSync(runtime, join(stage, 'runtime', 'bin', 'node'));
  chmodSync(join(stage, 'runtime', 'bin', 'node'), 0o755);
  const license = runtimeLicense(runtime);
  if (license !== undefined) copyFileSync(license, join(stage, 'runtime', 'LICENSE'));
  writeFileSync(join(stage, 'runtime', 'platform'), platform);
  writeFileSync(join(stage, 'runtime', 'check.cjs'), checkScript(addons));
  for (const f of ['platform', 'check.cjs', ...(license === undefined ? [] : ['LICENSE'])]) chmodSync(join(stage, 'runtime', f), 0o644);
  // The addons must load in the runtime that ships with them (same ABI): checked here, and again on the node.
  const r: CommandResult | Error = await runCommand(runtime, [join(stage, 'runtime', 'check.cjs'), packageRoot]).catch((err: Error) => err);
  if (r instanceof Error || r.code !== 0) {
    throw new FoundryError('RUNTIME_UNAVAILABLE', `cannot build the agent bundle: the native addons do not load in ${runtime}: ${(r instanceof Error ? String(r) : r.stderr).trim().split('\n').find((l) => /Error/.test(l)) ?? ''}`);
  }
  return platform;
}

async function writeTarball(root: string, paths: string[], stage: string, out: string): Promise<string> {
  const args = ['-c', '-f', '-', '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', ...EXCLUDES.map((e) => `--exclude=${e}`), '-C', root, ...paths, '-C', stage, 'runtime'];
  const tar = spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  tar.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve, reject) => {
    tar.on('error', reject);
    tar.on('close', (code) => resolve(code ?? 1));
  });
  const hash = createHash('sha256');
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(tar.stdout, createGzip({ level: 6 }), tap, createWriteStream(out, { mode: 0o644 }));
  } catch (err) {
    throw new FoundryError('RUNTIME_UNAVAILABLE', `cannot build the agent bundle: ${errorMessage(err)}`, { cause: err });
  }
  const code = await exited;
  if (code !== 0) throw new FoundryError('RUNTIME_UNAVAILABLE', `cannot build the agent bundle: tar exited ${code}: ${stderr.trim().split('\n').at(-1) ?? ''}`);
  return hash.digest('hex');
}

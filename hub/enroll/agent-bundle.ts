/**
 * The agent bundle nodes install: a gzipped tarball of this package as it runs on the hub (dist/, bin/,
 * schemas/, node-profiles/, package.json, package-lock.json and the production node_modules, chosen from
 * package-lock.json), so a node needs only Node.js and the hub, no npm registry. Built once per package
 * content into a cache folder with its SHA-256 in a separate file; deterministic (sorted, zero mtimes and
 * owners, gzip without a timestamp), so a rebuilt bundle of the same package has the same checksum.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { FoundryError, errorMessage } from '../../common/errors.js';

/** File names the hub serves under /agent/. */
export const BUNDLE_FILE = 'foundry-agent.tgz';
export const BUNDLE_SHA_FILE = `${BUNDLE_FILE}.sha256`;

const TOP_LEVEL = ['bin', 'dist', 'schemas', 'node-profiles', 'package.json', 'package-lock.json'];

/** A built bundle: its file, checksum file and SHA-256 hex. */
export interface AgentBundle {
  file: string;
  shaFile: string;
  sha256: string;
}

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

/** A key that changes when the package content that goes into the bundle changes. */
export function bundleKey(packageRoot: string): string {
  const h = createHash('sha256');
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
  for (const d of ['bin', 'dist', 'schemas', 'node-profiles']) if (existsSync(join(packageRoot, d))) walk(join(packageRoot, d));
  return h.digest('hex');
}

/** Builds the bundle of `packageRoot` into `outDir` unless the cached one is of the same package content. */
export async function ensureAgentBundle(packageRoot: string, outDir: string): Promise<AgentBundle> {
  const file = join(outDir, BUNDLE_FILE);
  const shaFile = join(outDir, BUNDLE_SHA_FILE);
  const keyFile = join(outDir, 'bundle.key');
  const key = bundleKey(packageRoot);
  if (existsSync(file) && existsSync(shaFile) && existsSync(keyFile) && readFileSync(keyFile, 'utf8') === key) {
    return { file, shaFile, sha256: readFileSync(shaFile, 'utf8').split(/\s/)[0] ?? '' };
  }
  if (!existsSync(join(packageRoot, 'dist', 'cli', 'foundry.js'))) {
    throw new FoundryError('RUNTIME_UNAVAILABLE', 'cannot build the agent bundle: the package is not built (run npm run build)', { resource: packageRoot });
  }
  mkdirSync(outDir, { recursive: true });
  const sha256 = await writeTarball(packageRoot, [...TOP_LEVEL.filter((p) => existsSync(join(packageRoot, p))), ...productionPackages(packageRoot)], `${file}.tmp`);
  renameSync(`${file}.tmp`, file);
  writeFileSync(shaFile, `${sha256}  ${BUNDLE_FILE}\n`);
  writeFileSync(keyFile, key);
  return { file, shaFile, sha256 };
}

async function writeTarball(root: string, paths: string[], out: string): Promise<string> {
  const args = ['-c', '-f', '-', '-C', root, '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--exclude=*.tsbuildinfo', '--exclude=*.test.js', '--exclude=node_modules/.bin', '--', ...paths];
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

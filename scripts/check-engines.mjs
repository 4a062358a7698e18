#!/usr/bin/env node
// Fails (exit 1) when an installed package's `engines.node` excludes the oldest Node.js that
// package.json's `engines.node` promises (e.g. cookie@2 requires >=22 while we promise >=20.19) or the
// Node.js running the check: what `npm ci` reports as EBADENGINE there, caught on any Node (npm only
// warns, and only about the Node it runs on). Usage:
// node scripts/check-engines.mjs [node_modules dir] (default: this package's node_modules).
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const modules = process.argv[2] ?? join(root, 'node_modules');
const promised = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines?.node;
if (typeof promised !== 'string' || semver.validRange(promised) === null) {
  process.stderr.write(`package.json: engines.node is missing or not a semver range: ${JSON.stringify(promised)}\n`);
  process.exit(1);
}

/** Every package folder under a node_modules folder, nested ones included. */
function packageDirs(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (!e.isDirectory() || e.name.startsWith('.')) return [];
    const p = join(dir, e.name);
    if (e.name.startsWith('@')) return packageDirs(p);
    return [p, ...packageDirs(join(p, 'node_modules'))];
  });
}

// The oldest version we promise, and the one running now.
const versions = [semver.minVersion(promised).version, process.versions.node];
const bad = [];
for (const dir of packageDirs(modules)) {
  let pkg;
  try {
    pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  } catch {
    continue; // not a package (e.g. a bin folder)
  }
  const needs = pkg.engines?.node;
  if (typeof needs !== 'string' || semver.validRange(needs) === null) continue;
  const excluded = versions.filter((v) => !semver.satisfies(v, needs));
  if (excluded.length > 0) bad.push(`${pkg.name}@${pkg.version} requires node ${needs}, not ${excluded.join(' or ')} (${relative(root, dir) || dir})`);
}
if (bad.length > 0) {
  process.stderr.write(`installed packages that do not run on node ${versions.join(' or ')} (package.json promises ${promised}):\n${bad.map((b) => `  ${b}`).join('\n')}\n`);
  process.stderr.write('pin a version that does (package.json overrides) or raise engines.node everywhere it is documented\n');
  process.exit(1);
}
process.stdout.write(`engines: every installed package supports node ${versions.join(' and ')} (package.json promises ${promised})\n`);

#!/usr/bin/env node
// Builds the hub bundle install-hub.sh installs (foundry-hub.tgz, its .sha256 and foundry-hub.platform) from
// this package and the Node.js running this script (the bundle carries that runtime: the hub machine needs
// no Node.js), into the folder given (default .foundry/hub-bundle/). It is the agent bundle's content plus
// the dashboard UI and install.sh, which the hub serves. Needs `npm ci && npm run build` first; run it with
// the node binary the hub should run on (same architecture, ABI of the installed better-sqlite3).
import { readFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(root, '.foundry', 'hub-bundle'));
const { ensureHubBundle } = await import(pathToFileURL(join(root, 'dist', 'hub', 'enroll', 'agent-bundle.js')).href);
const bundle = await ensureHubBundle(root, out);
process.stdout.write(`${bundle.file}\nsha256 ${bundle.sha256}\n${readFileSync(bundle.platformFile, 'utf8')}`);

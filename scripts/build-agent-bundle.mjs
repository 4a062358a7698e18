#!/usr/bin/env node
// Builds the agent bundle nodes install (foundry-agent.tgz, its .sha256 and foundry-agent.platform) from
// this package and the Node.js running this script (the bundle carries that runtime: nodes need no Node.js),
// into the folder given (default .foundry/agent-bundle/). The hub does the same on first request into
// <data-dir>/agent-bundle; this script is for release pipelines and for checking the bundle by hand.
// Needs `npm run build` first. Run it with the node binary the bundle should carry (same architecture as
// the nodes, ABI of the installed better-sqlite3): `/path/to/node scripts/build-agent-bundle.mjs DIR`.
import { readFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(root, '.foundry', 'agent-bundle'));
const { ensureAgentBundle } = await import(pathToFileURL(join(root, 'dist', 'hub', 'enroll', 'agent-bundle.js')).href);
const bundle = await ensureAgentBundle(root, out);
process.stdout.write(`${bundle.file}\nsha256 ${bundle.sha256}\n${readFileSync(bundle.platformFile, 'utf8')}`);

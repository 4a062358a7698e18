#!/usr/bin/env node
// Generates TypeScript types from the JSON Schemas in schemas/ so the two cannot drift.
// `--check` regenerates in memory and fails (exit 1) when a committed file differs.
import { readFileSync, writeFileSync, readdirSync, existsSync, mkdirSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from 'json-schema-to-typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const schemaDir = join(root, 'schemas');
const outDir = join(root, 'common', 'generated');
const check = process.argv.includes('--check');

/** Every *.schema.json under schemas/, except the shared definitions and the editor dispatch schema. */
function schemaFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return schemaFiles(p);
    return e.name.endsWith('.schema.json') && !['common.schema.json', 'infra.schema.json'].includes(e.name) ? [p] : [];
  }).sort();
}

const banner = '// Generated from schemas/ by scripts/gen-types.mjs. Do not edit: change the schema and run `npm run gen:types`.\n';
let stale = [];
for (const file of schemaFiles(schemaDir)) {
  const schema = JSON.parse(readFileSync(file, 'utf8'));
  const rel = relative(schemaDir, file);
  const out = join(outDir, rel.replace(/\.schema\.json$/, '.ts'));
  const ts = await compile(schema, schema.title ?? rel, {
    cwd: dirname(file),
    bannerComment: banner,
    additionalProperties: false,
    strictIndexSignatures: false,
    format: true,
    declareExternallyReferenced: true,
    unreachableDefinitions: false,
  });
  const current = existsSync(out) ? readFileSync(out, 'utf8') : '';
  if (current === ts) continue;
  if (check) stale.push(relative(root, out));
  else {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, ts);
    console.log(`wrote ${relative(root, out)}`);
  }
}
if (stale.length > 0) {
  console.error(`types out of date with schemas/: ${stale.join(', ')}\nrun: npm run gen:types`);
  process.exit(1);
}

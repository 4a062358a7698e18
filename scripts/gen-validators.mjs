#!/usr/bin/env node
// Compiles every JSON Schema under schemas/ into one module of standalone ajv validators,
// dist/common/validators.cjs (part of `npm run build`). At run time common/schema.ts requires it instead of
// compiling schemas with ajv: `foundry validate` and the agent start without ajv's code generator
// (start-up time and peak memory: bench/startup.mjs). Same ajv options as the run-time fallback.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, _ } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import addFormatsImport from 'ajv-formats';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const schemaDir = join(root, 'schemas');
const out = join(root, 'dist', 'common', 'validators.cjs');
const addFormats = addFormatsImport.default ?? addFormatsImport;

function schemaFiles(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? schemaFiles(join(dir, e.name)) : e.name.endsWith('.schema.json') ? [join(dir, e.name)] : []))
    .sort();
}

// Must match common/schema.ts (AJV_OPTIONS), plus code generation that the standalone module needs.
const ajv = new Ajv({
  allErrors: true, strict: false, useDefaults: false, allowUnionTypes: true, verbose: true,
  code: { source: true, formats: _`require("ajv-formats/dist/formats").fullFormats` },
});
addFormats(ajv);
const keys = [];
for (const file of schemaFiles(schemaDir)) {
  const key = relative(schemaDir, file).split('\\').join('/');
  const schema = JSON.parse(readFileSync(file, 'utf8'));
  delete schema.$id;
  ajv.addSchema(schema, key);
  keys.push(key);
}
const exportNames = Object.fromEntries(keys.map((key, i) => [`v${i}`, key]));
const index = Object.fromEntries(keys.map((key, i) => [key, `v${i}`]));
const code = standaloneCode.default(ajv, exportNames);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${code}\nmodule.exports.SCHEMA_KEYS = ${JSON.stringify(index)};\n`);
process.stdout.write(`validators: ${keys.length} schemas compiled into ${relative(root, out)} (${Math.round(code.length / 1024)} KiB)\n`);

/**
 * The validators of every JSON Schema in schemas/ (infra kinds, protocol messages, HTTP bodies, agent
 * config). Built code uses the standalone validators `npm run build` compiles (scripts/gen-validators.mjs →
 * dist/common/validators/, one module per schema) and loads only those of the schemas it checks, so
 * processes start without ajv's code generator; sources run by the tests compile the same schemas with one
 * ajv instance, once, with the same options.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import type { Ajv as AjvInstance, ValidateFunction, ErrorObject } from 'ajv';
import { SCHEMA_DIR } from './paths.js';

const require = createRequire(import.meta.url);

let instance: AjvInstance | undefined;
/** Schema key → module of its standalone validator, relative to validators/index.cjs. */
type StandaloneIndex = Record<string, string>;
let standalone: StandaloneIndex | null | undefined;
const loaded = new Map<string, ValidateFunction>();

/** The index of the build's standalone validators next to this module, or null when running from the sources. */
function standaloneIndex(): StandaloneIndex | null {
  if (standalone !== undefined) return standalone;
  try {
    standalone = require('./validators/index.cjs') as StandaloneIndex;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    standalone = null;
  }
  return standalone;
}

function schemaFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return schemaFiles(p);
    return e.name.endsWith('.schema.json') ? [p] : [];
  });
}

/** The shared ajv instance, with every schema under schemas/ registered by its path (e.g. "workspace.schema.json", "protocol/hello.schema.json"). */
export function schemas(): AjvInstance {
  if (instance !== undefined) return instance;
  // Loaded here, not at the top: built processes never need ajv's compiler (both packages are CommonJS).
  const { Ajv } = require('ajv') as { Ajv: new (options: Record<string, unknown>) => AjvInstance };
  const addFormats = require('ajv-formats') as unknown as (ajv: AjvInstance) => AjvInstance;
  // verbose: errors carry the failing schema and data, so the infra loader can explain what was expected.
  const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: false, allowUnionTypes: true, verbose: true });
  addFormats(ajv);
  for (const file of schemaFiles(SCHEMA_DIR)) {
    const key = relative(SCHEMA_DIR, file).split('\\').join('/');
    const schema = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    delete schema.$id;
    ajv.addSchema(schema, key);
  }
  instance = ajv;
  return ajv;
}

/** The compiled validator for a schema file under schemas/ (e.g. "workspace.schema.json"). */
export function validatorFor<T = unknown>(key: string): ValidateFunction<T> {
  const file = standaloneIndex()?.[key];
  if (file !== undefined) {
    let fn = loaded.get(key);
    if (fn === undefined) {
      fn = (require(`./validators/${file.slice(2)}`) as { validate: ValidateFunction }).validate;
      loaded.set(key, fn);
    }
    return fn as ValidateFunction<T>;
  }
  const fn = schemas().getSchema<T>(key);
  if (fn === undefined) throw new Error(`no schema registered as ${key}`);
  return fn;
}

/** Formats ajv errors into one readable line each: "<path>: <message>". */
export function describeAjvErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => `${e.instancePath === '' ? '(root)' : e.instancePath}: ${e.message ?? 'is invalid'}`);
}

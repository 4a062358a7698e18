/**
 * One ajv instance holding every JSON Schema in schemas/ (infra kinds, protocol messages, HTTP bodies,
 * agent config). Validators are compiled once and shared.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Ajv, type ValidateFunction, type ErrorObject } from 'ajv';
import addFormatsImport from 'ajv-formats';
import { SCHEMA_DIR } from './paths.js';

// ajv-formats ships CommonJS with a default export; normalise for NodeNext.
const addFormats = addFormatsImport as unknown as (ajv: Ajv) => Ajv;

let instance: Ajv | undefined;

function schemaFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return schemaFiles(p);
    return e.name.endsWith('.schema.json') ? [p] : [];
  });
}

/** The shared ajv instance, with every schema under schemas/ registered by its path (e.g. "workspace.schema.json", "protocol/hello.schema.json"). */
export function schemas(): Ajv {
  if (instance !== undefined) return instance;
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
  const fn = schemas().getSchema<T>(key);
  if (fn === undefined) throw new Error(`no schema registered as ${key}`);
  return fn;
}

/** Formats ajv errors into one readable line each: "<path>: <message>". */
export function describeAjvErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => `${e.instancePath === '' ? '(root)' : e.instancePath}: ${e.message ?? 'is invalid'}`);
}

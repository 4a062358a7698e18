/**
 * The standalone validators `npm run build` compiles (dist/common/validators/, one module per schema, used by every built
 * process) judge exactly as ajv compiling the schemas at run time (used by the sources under test): same
 * verdict and same errors for every infra document of the fixtures, good and bad, and for an empty object.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { schemas } from '../../common/schema.js';
import { INFRA_KINDS, type InfraKind } from '../../common/infra/model.js';
import { schemaKeyOf } from '../../common/infra/parse-docs.js';

const root = join(import.meta.dirname, '..', '..');
const built = join(root, 'dist', 'common', 'validators', 'index.cjs');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? yamlFiles(p) : /\.ya?ml$/.test(name) ? [p] : [];
  });
}

describe('standalone validators', () => {
  it('exist after the build and agree with run-time ajv on every fixture document', () => {
    expect(existsSync(built), 'npm run build writes dist/common/validators/index.cjs').toBe(true);
    const require = createRequire(built);
    const index = require(built) as Record<string, string>;
    type Validate = ((d: unknown) => boolean) & { errors?: unknown[] | null };
    const standalone = (key: string): Validate => (require(index[key] ?? `./missing ${key}`) as { validate: Validate }).validate;
    const ajv = schemas();
    let compared = 0;
    const docs: Array<[string, unknown]> = [];
    for (const file of [...yamlFiles(join(root, 'fixtures', 'example-infra')), ...yamlFiles(join(root, 'fixtures', 'bad-infra'))]) {
      for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
        const data = 'toJS' in doc ? doc.toJS() : undefined;
        const kind = (data as { kind?: string } | null)?.kind;
        if ((INFRA_KINDS as readonly string[]).includes(kind as string)) docs.push([schemaKeyOf(kind as InfraKind), data]);
      }
    }
    for (const key of Object.keys(index)) docs.push([key, {}]);
    for (const [key, data] of docs) {
      const a = standalone(key);
      const b = ajv.getSchema(key)!;
      const va = a(data);
      const vb = b(data);
      expect(va, key).toBe(vb);
      const strip = (errs: unknown[] | null | undefined) => (errs ?? []).map((e) => { const { instancePath, keyword, params, message } = e as Record<string, unknown>; return { instancePath, keyword, params, message }; });
      expect(strip(a.errors), key).toEqual(strip(b.errors));
      compared += 1;
    }
    expect(compared).toBeGreaterThan(40);
  });
});

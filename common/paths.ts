/** Locations inside the installed package (schemas, built-in profiles, fixtures), found from this file. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

function findRoot(): string {
  // Works from the sources (common/) and from the build (dist/common/).
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'schemas'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the package root (schemas/ next to package.json)');
}

/** Root of the package. */
export const PACKAGE_ROOT = findRoot();
/** JSON Schemas of every kind, protocol message and HTTP body. */
export const SCHEMA_DIR = join(PACKAGE_ROOT, 'schemas');
/** Built-in node profiles. */
export const PROFILE_DIR = join(PACKAGE_ROOT, 'node-profiles');
/** Example infra repo used by `npm start`. */
export const EXAMPLE_INFRA_DIR = join(PACKAGE_ROOT, 'fixtures', 'example-infra');

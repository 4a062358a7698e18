/**
 * scripts/check-engines.mjs (run by `npm run check`): an installed package whose engines.node excludes
 * the oldest Node.js package.json promises fails the check, naming the package, what it needs and where
 * it lies (cookie@2 requires >=22 while we promise >=20.19: `npm ci` warned EBADENGINE); this
 * project's own node_modules passes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../common/paths.js';

const CHECK = join(PACKAGE_ROOT, 'scripts', 'check-engines.mjs');

function check(modules?: string): { code: number; out: string } {
  const r = spawnSync(process.execPath, [CHECK, ...(modules === undefined ? [] : [modules])], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

function pkg(dir: string, json: Record<string, unknown>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify(json));
}

describe('check-engines.mjs', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'fc-engines-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fails on a nested package that needs a newer Node than package.json promises, naming it', () => {
    const nm = join(dir, 'bad', 'node_modules');
    pkg(join(nm, '@fastify', 'cookie'), { name: '@fastify/cookie', version: '11.1.5', engines: { node: '>=18' } });
    pkg(join(nm, '@fastify', 'cookie', 'node_modules', 'cookie'), { name: 'cookie', version: '2.0.2', engines: { node: '>=22' } });
    const r = check(nm);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^ {2}cookie@2\.0\.2 requires node >=22, not 20\.19\.0 or \d+\.\d+\.\d+ \(.*@fastify\/cookie\/node_modules\/cookie\)$/m);
    expect(r.out).not.toContain('@fastify/cookie@11.1.5 requires');
    expect(r.out).toContain('pin a version that does (package.json overrides) or raise engines.node everywhere it is documented');
  });

  it('passes packages that support the promised Node, or say nothing about it', () => {
    const nm = join(dir, 'good', 'node_modules');
    pkg(join(nm, 'cookie'), { name: 'cookie', version: '1.1.1', engines: { node: '>=18' } });
    pkg(join(nm, 'plain'), { name: 'plain', version: '1.0.0' });
    expect(check(nm)).toMatchObject({ code: 0 });
  });

  it('passes this project\'s installed packages (cookie pinned to 1.x by overrides)', () => {
    const r = check();
    expect(r.out).toMatch(/^engines: every installed package supports node 20\.19\.0 and /);
    expect(r.code).toBe(0);
  });
});

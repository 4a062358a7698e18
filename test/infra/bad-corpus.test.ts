/**
 * The corpus of broken infra repos in fixtures/bad-infra/<case>/: each case's issues, formatted with
 * formatIssue, must equal its expected.txt exactly. Cases that cannot be committed as files (an
 * oversized file) are completed in a temp copy. FOUNDRY_WRITE_EXPECTED=1 rewrites expected.txt (review the diff).
 */
import { describe, expect, it } from 'vitest';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { loadInfraDir } from '../../common/infra/load.js';
import { formatIssue } from '../../common/infra/model.js';
import { DEFAULT_MAX_FILE_BYTES } from '../../common/infra/files.js';

const CORPUS = join(PACKAGE_ROOT, 'fixtures', 'bad-infra');

/** Cases completed at test time, in a temp copy. */
const GENERATED: Record<string, (dir: string) => Promise<void>> = {
  // One byte over the default limit (1 MiB): a valid YAML comment, refused for its size alone.
  'oversized-file': (dir) => writeFile(join(dir, 'huge.yaml'), `#${'x'.repeat(DEFAULT_MAX_FILE_BYTES - 1)}\n`),
};

async function issuesOf(name: string): Promise<string> {
  const generate = GENERATED[name];
  if (generate === undefined) return (await loadInfraDir(join(CORPUS, name))).issues.map(formatIssue).join('\n');
  const tmp = await mkdtemp(join(tmpdir(), `foundry-bad-${name}-`));
  try {
    await cp(join(CORPUS, name), tmp, { recursive: true, verbatimSymlinks: true });
    await rm(join(tmp, 'expected.txt'), { force: true });
    await generate(tmp);
    return (await loadInfraDir(tmp)).issues.map(formatIssue).join('\n');
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

const cases = (await readdir(CORPUS, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();

describe('fixtures/bad-infra corpus', () => {
  it('has the cases the issue asks for', () => {
    for (const c of ['malformed-yaml', 'schema-violation', 'unknown-kind', 'duplicate-names', 'dangling-template', 'dangling-profile', 'dangling-tenant', 'dangling-node', 'same-gpu', 'host-port-clash', 'invalid-resource-name', 'symlink-escape', 'oversized-file', 'template-isolation', 'template-host-access', 'hostile-yaml', 'secret-refs']) {
      expect(cases).toContain(c);
    }
  });

  for (const name of cases) {
    it(`${name}: reports exactly expected.txt`, async () => {
      const actual = await issuesOf(name);
      const expectedFile = join(CORPUS, name, 'expected.txt');
      if (process.env.FOUNDRY_WRITE_EXPECTED === '1') await writeFile(expectedFile, `${actual}\n`);
      const expected = (await readFile(expectedFile, 'utf8')).trimEnd();
      expect(actual).not.toBe('');
      expect(actual).toBe(expected);
    });
  }
});

/** `foundry validate` as a process: exit codes, every issue listed, JSON, git URLs, and --watch in-process. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT, EXAMPLE_INFRA_DIR } from '../../common/paths.js';
import { watchInfra } from '../../cli/validate-watch.js';
import type { InfraRepo } from '../../common/infra/model.js';
import { commit, git, initRepo } from '../source/git-fixtures.js';

const BIN = join(PACKAGE_ROOT, 'bin', 'foundry.js');
const BAD = join(PACKAGE_ROOT, 'fixtures', 'bad-infra');

function foundry(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'foundry-validate-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('foundry validate', () => {
  it('exits 0 on the example repo and says what it found', () => {
    const r = foundry('validate', EXAMPLE_INFRA_DIR);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('valid: 6 nodes, 0 repo profiles, 6 services, 2 templates, 2 tenants, 3 workspaces, 1 price list, 3 identity providers (revision worktree)\n');
  });

  it('exits 1 listing every issue as file:line:column: path: message', async () => {
    const r = foundry('validate', join(BAD, 'many-errors-one-file'));
    const expected = (await readFile(join(BAD, 'many-errors-one-file', 'expected.txt'), 'utf8')).trimEnd();
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`${expected}\ninvalid: 6 issues in 1 file (revision worktree)\n`);
  });

  it('prints JSON with --json', () => {
    const r = foundry('validate', join(BAD, 'same-gpu'), '--json');
    expect(r.code).toBe(1);
    const body = JSON.parse(r.stdout) as { valid: boolean; issues: { code: string; file: string; line: number; column: number; path: string }[] };
    expect(body.valid).toBe(false);
    expect(body.issues.map((i) => [i.code, i.file, i.line, i.column, i.path])).toEqual([['INFRA_CONFLICT', 'workspaces/bob.yaml', 9, 29, 'spec.gpus.uuids[0]']]);
  });

  it('exits 2 on usage errors and 3 when the repo cannot be fetched', () => {
    expect(foundry('validate').code).toBe(2);
    expect(foundry('validate', join(tmp, 'missing')).code).toBe(2);
    const r = foundry('validate', 'http://admin:t0psecret@127.0.0.1:1/infra.git');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^foundry: cannot fetch the infra repo: fetching http:\/\/127\.0\.0\.1:1\/infra\.git failed: /);
    expect(r.stderr).not.toContain('t0psecret');
  });

  it('validates a git URL at its tip, a pinned revision and a sub-path', async () => {
    const repo = join(tmp, 'infra-repo');
    initRepo(repo);
    await cp(EXAMPLE_INFRA_DIR, join(repo, 'infra'), { recursive: true });
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'example');
    const good = git(repo, 'rev-parse', 'HEAD');
    const bad = commit(repo, { 'infra/tenants/extra.yaml': 'apiVersion: foundry.cloud/v1\nkind: Tenant\nmetadata:\n  name: acme\nspec:\n  displayName: again\n' }, 'duplicate tenant');
    const tip = foundry('validate', `file://${repo}`, '--path', 'infra');
    expect(tip.code).toBe(1);
    expect(tip.stdout).toBe(`infra/tenants/extra.yaml:4:9: metadata.name: duplicate Tenant "acme": also defined at infra/tenants/acme.yaml:5:9\ninvalid: 1 issue in 1 file (revision ${bad})\n`);
    const pinned = foundry('validate', `file://${repo}`, '--path', 'infra', '--revision', good);
    expect([pinned.code, pinned.stdout.trim().endsWith(`(revision ${good})`)]).toEqual([0, true]);
    const missing = foundry('validate', repo, '--revision', 'f'.repeat(40));
    expect(missing.code).toBe(3);
  });
});

describe('validate --watch', () => {
  it('re-validates after each change and keeps going on errors', async () => {
    const dir = join(tmp, 'watched');
    await cp(EXAMPLE_INFRA_DIR, dir, { recursive: true });
    const results: InfraRepo[] = [];
    const w = watchInfra(dir, {}, (repo) => results.push(repo), 50);
    const until = async (n: number) => {
      for (let i = 0; i < 200 && results.length < n; i++) await new Promise((r) => setTimeout(r, 50));
      expect(results.length).toBeGreaterThanOrEqual(n);
      return results[n - 1]!;
    };
    try {
      await w.ready;
      expect((await until(1)).issues).toEqual([]);
      await writeFile(join(dir, 'tenants', 'broken.yaml'), 'kind: [\n');
      expect((await until(2)).issues.map((i) => `${i.file}:${i.code}`)).toEqual(['tenants/broken.yaml:INFRA_YAML']);
      await rm(join(dir, 'tenants', 'broken.yaml'));
      expect((await until(3)).issues).toEqual([]);
    } finally {
      await w.close();
    }
  });
});

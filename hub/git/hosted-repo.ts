/**
 * The infra repo the hub hosts: a bare repository in the data dir, served over smart HTTP, with a
 * pre-receive hook that refuses revisions failing validation.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { git, runGit } from '../../common/git-run.js';
import { DEFAULT_VALIDATION_LIMITS, type ValidationLimits } from './pre-receive.js';

/** The hook runs the built validator script with the node binary running the hub. */
function hookScript(limits: ValidationLimits): string {
  const q = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;
  const args = ['--timeout-ms', String(limits.timeoutMs), '--max-memory-mb', String(limits.maxMemoryMb)].join(' ');
  return `#!/bin/sh\n# Installed by foundry hub: refuse pushes whose revision fails validation.\nexec ${q(process.execPath)} ${q(join(PACKAGE_ROOT, 'dist', 'hub', 'git', 'pre-receive-hook.js'))} ${args}\n`;
}

/** Creates the bare repo if missing (default branch main) and (re)installs the pre-receive hook with its validation limits. */
export async function ensureHostedRepo(dir: string, limits: ValidationLimits = DEFAULT_VALIDATION_LIMITS): Promise<void> {
  if (!existsSync(join(dir, 'HEAD'))) await git(['init', '--quiet', '--bare', '--initial-branch=main', dir], 'git init');
  const hook = join(dir, 'hooks', 'pre-receive');
  writeFileSync(hook, hookScript(limits));
  chmodSync(hook, 0o755);
}

/** Every ref of the repo and the commit it points at. */
export async function listRefs(dir: string): Promise<Map<string, string>> {
  const out = await git(['--git-dir', dir, 'for-each-ref', '--format=%(refname) %(objectname)'], 'git for-each-ref');
  return new Map(out.split('\n').filter((l) => l !== '').map((l) => l.split(' ') as [string, string]));
}

/**
 * Commits the contents of `srcDir` as the first commit of main when the repo has no commits yet (what
 * `npm start` uses to seed it from fixtures/example-infra). Returns the new revision, or undefined.
 */
export async function seedHostedRepo(dir: string, srcDir: string, message = 'seed infra repo'): Promise<string | undefined> {
  if ((await runGit(['--git-dir', dir, 'rev-parse', '--verify', '--quiet', 'refs/heads/main'])).code === 0) return undefined;
  const tmp = mkdtempSync(join(tmpdir(), 'foundry-seed-'));
  try {
    const env = { ...process.env, GIT_INDEX_FILE: join(tmp, 'index'), GIT_AUTHOR_NAME: 'foundry-hub', GIT_AUTHOR_EMAIL: 'hub@foundry.local', GIT_COMMITTER_NAME: 'foundry-hub', GIT_COMMITTER_EMAIL: 'hub@foundry.local' };
    await git(['--git-dir', dir, '--work-tree', srcDir, 'add', '-A', '.'], 'git add', { env });
    const tree = (await git(['--git-dir', dir, 'write-tree'], 'git write-tree', { env })).trim();
    const commit = (await git(['--git-dir', dir, 'commit-tree', tree, '-m', message], 'git commit-tree', { env })).trim();
    await git(['--git-dir', dir, 'update-ref', 'refs/heads/main', commit], 'git update-ref', { env });
    return commit;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

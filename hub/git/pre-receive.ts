/**
 * The hosted repo's pre-receive hook (run by git inside the hub's `git http-backend` child): checks out
 * each pushed branch revision into a temp dir, validates it like `foundry validate`, and refuses the push
 * with every issue as file:line:col, which `git push` prints as "remote: ..." lines.
 */
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInfraDir } from '../../common/infra/load.js';
import { formatIssue, type InfraIssue } from '../../common/infra/model.js';
import { HUB_WRITTEN_FOLDERS, linksInHubFolders, parseLsTree } from '../gitops/safe-paths.js';
import { git } from './git-run.js';

const ZERO = /^0+$/;

/** One ref update as git passes it on stdin. */
export interface RefUpdate {
  oldRev: string;
  newRev: string;
  ref: string;
}

/** Parses pre-receive stdin: "<old> <new> <ref>" per line. */
export function parseRefUpdates(input: string): RefUpdate[] {
  return input.split('\n').filter((l) => l.trim() !== '').map((l) => {
    const [oldRev = '', newRev = '', ref = ''] = l.trim().split(/\s+/);
    return { oldRev, newRev, ref };
  });
}

/** Validates one revision of the repo in `gitDir`; returns the formatted issues (empty when valid). */
export async function validateRevision(gitDir: string, revision: string): Promise<string[]> {
  const tmp = mkdtempSync(join(tmpdir(), 'foundry-pre-receive-'));
  try {
    // A private index: the hook must not touch the repo's own state. Objects of the push are visible
    // through the quarantine environment git passes to the hook. --work-tree: a local (file) push runs the
    // hook in a bare repo, where checkout-index refuses to run without one.
    const env = { ...process.env, GIT_INDEX_FILE: join(tmp, 'index') };
    await git(['--git-dir', gitDir, 'read-tree', revision], 'git read-tree', { env });
    await git(['--git-dir', gitDir, '--work-tree', tmp, 'checkout-index', '--all', '--force', `--prefix=${join(tmp, 'tree')}/`], 'git checkout-index', { env });
    const repo = await loadInfraDir(join(tmp, 'tree'), { revision });
    return [...(await linkIssues(gitDir, revision)), ...repo.issues].map(formatIssue);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Symbolic links and submodules in the folders the hub writes to (workspaces/, nodes/): a linked folder
 * could steer the hub's own writes out of its checkout, so they are refused wherever they point.
 */
export async function linkIssues(gitDir: string, revision: string): Promise<InfraIssue[]> {
  const entries = parseLsTree(await git(['--git-dir', gitDir, 'ls-tree', '-r', '-z', '--full-tree', revision, '--', ...HUB_WRITTEN_FOLDERS], 'git ls-tree'));
  return linksInHubFolders(entries).map((e) => ({
    code: 'INFRA_FILE',
    file: e.path,
    line: 1,
    column: 1,
    path: '',
    message: `${e.mode === '120000' ? 'symbolic link' : 'submodule'} refused in a folder the hub writes to (${HUB_WRITTEN_FOLDERS.map((f) => `${f}/`).join(', ')}): expected a regular file or folder`,
  }));
}

/** Hook entry point: exit 1 (push refused) when any pushed branch fails validation. */
export async function main(): Promise<void> {
  const gitDir = process.env.GIT_DIR ?? '.';
  let refused = false;
  for (const u of parseRefUpdates(readFileSync(0, 'utf8'))) {
    if (ZERO.test(u.newRev) || !u.ref.startsWith('refs/heads/')) continue;
    const issues = await validateRevision(gitDir, u.newRev);
    if (issues.length === 0) continue;
    refused = true;
    process.stderr.write(`foundry: push refused: ${u.ref} at ${u.newRev.slice(0, 12)} fails validation (${issues.length} issue${issues.length === 1 ? '' : 's'}):\n`);
    for (const line of issues) process.stderr.write(`  ${line}\n`);
  }
  process.exitCode = refused ? 1 : 0;
}


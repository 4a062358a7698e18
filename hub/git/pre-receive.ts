/**
 * The hosted repo's pre-receive hook (run by git inside the hub's `git http-backend` child): checks out
 * each pushed revision into a temp dir, validates it like `foundry validate`, and refuses the push with
 * every issue as file:line:col, which `git push` prints as "remote: ..." lines. Validation runs in a worker
 * thread with a memory limit and a deadline, so a hostile revision is refused instead of running unbounded.
 */
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { parseAllDocuments } from 'yaml';
import { loadInfraDir } from '../../common/infra/load.js';
import { formatIssue, type InfraIssue, type InfraRepo } from '../../common/infra/model.js';
import { encryptedKeyRefs } from '../../common/volumes/encrypted-refs.js';
import { HUB_WRITTEN_FOLDERS, linksInHubFolders, parseLsTree } from '../gitops/safe-paths.js';
import { git } from '../../common/git-run.js';

const ZERO = /^0+$/;

/** Limits of one revision's validation. */
export interface ValidationLimits {
  /** Wall-clock deadline per revision (default 60 s). */
  timeoutMs: number;
  /** V8 old-generation heap of the validating worker (default 512 MiB). */
  maxMemoryMb: number;
}

/** Defaults of the hook's limits: a 1 MiB file validates in about a second, a full repo in well under 10. */
export const DEFAULT_VALIDATION_LIMITS: ValidationLimits = { timeoutMs: 60_000, maxMemoryMb: 512 };

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

/** Validates one revision of the repo in `gitDir` in this thread; returns the formatted issues (empty when valid). */
export async function validateRevision(gitDir: string, revision: string): Promise<string[]> {
  return (await validateRevisionReport(gitDir, revision)).issues;
}

/**
 * The formatted issues (refuse the push) and warnings (told to the pusher) of one revision; with the
 * branch's previous revision `oldRev`, also warns of workspaces moved away from their encrypted data.
 */
export async function validateRevisionReport(gitDir: string, revision: string, oldRev?: string): Promise<{ issues: string[]; warnings: string[] }> {
  const tmp = mkdtempSync(join(tmpdir(), 'foundry-pre-receive-'));
  try {
    // A private index: the hook must not touch the repo's own state. Objects of the push are visible
    // through the quarantine environment git passes to the hook. --work-tree: a local (file) push runs the
    // hook in a bare repo, where checkout-index refuses to run without one.
    const env = { ...process.env, GIT_INDEX_FILE: join(tmp, 'index') };
    await git(['--git-dir', gitDir, 'read-tree', revision], 'git read-tree', { env });
    await git(['--git-dir', gitDir, '--work-tree', tmp, 'checkout-index', '--all', '--force', `--prefix=${join(tmp, 'tree')}/`], 'git checkout-index', { env });
    const repo = await loadInfraDir(join(tmp, 'tree'), { revision });
    const warnings = [...(repo.warnings ?? []), ...(repo.issues.length === 0 ? await moveWarnings(gitDir, oldRev, revision, repo) : [])];
    return { issues: [...(await linkIssues(gitDir, revision)), ...repo.issues].map(formatIssue), warnings: warnings.map((w) => formatIssue({ ...w, message: `warning: ${w.message}` })) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Workspaces this push moves to another node (spec.node changed in a file under workspaces/) whose
 * template keeps encrypted volumes local to the old node with `dataOnMove: refuse` (the default): the
 * hub will not give the new node their keys, so the workspace would not start there. A warning, not a
 * refusal: only the hub knows whether data was ever written on the old node (docs/volumes.md, "Moves").
 */
export async function moveWarnings(gitDir: string, oldRev: string | undefined, revision: string, repo: InfraRepo): Promise<InfraIssue[]> {
  if (oldRev === undefined || ZERO.test(oldRev)) return [];
  const changed = new Set((await git(['--git-dir', gitDir, 'diff', '--name-only', '-z', '--no-renames', oldRev, revision, '--', 'workspaces/'], 'git diff')).split('\0').filter((f) => f !== ''));
  const out: InfraIssue[] = [];
  for (const [name, ws] of repo.workspaces) {
    const node = ws.doc.spec.node;
    const template = repo.templates.get(ws.doc.spec.template)?.doc;
    if (node === undefined || template === undefined || !changed.has(ws.source.file)) continue;
    if ((template.spec.dataOnMove ?? 'refuse') !== 'refuse' || encryptedKeyRefs(name, template).length === 0) continue;
    const before = await git(['--git-dir', gitDir, 'show', `${oldRev}:${ws.source.file}`], 'git show').catch(() => undefined);
    const oldNode = before === undefined ? undefined : nodeOf(before, name);
    if (oldNode === undefined || oldNode === node) continue;
    const at = ws.locate?.(['spec', 'node']) ?? ws.source;
    out.push({
      code: 'INFRA_CONFLICT',
      file: ws.source.file,
      line: at.line,
      column: at.column,
      path: 'spec.node',
      message: `workspace ${name} moves from node ${oldNode} to ${node}, but its encrypted volumes stay on ${oldNode} (template ${template.metadata.name}, dataOnMove: refuse): it will not start on ${node}; place it back on ${oldNode}, or set dataOnMove: drop in the template to start it empty on ${node} (the data on ${oldNode} is then erased with its keys)`,
    });
  }
  return out;
}

/** spec.node of the Workspace `name` in a file's previous text; undefined when it cannot be read. */
function nodeOf(text: string, name: string): string | undefined {
  try {
    for (const d of parseAllDocuments(text)) {
      const v = d.toJS() as { kind?: unknown; metadata?: { name?: unknown }; spec?: { node?: unknown } } | null;
      if (v?.kind === 'Workspace' && v.metadata?.name === name && typeof v.spec?.node === 'string') return v.spec.node;
    }
  } catch {
    // an unreadable old file says nothing about a move
  }
  return undefined;
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

/**
 * Validates one revision in a worker thread under `limits`. Resolves with the issues; a revision that
 * exceeds the deadline or the memory limit resolves with one issue saying so (the worker is stopped).
 */
export function validateRevisionBounded(gitDir: string, revision: string, limits: ValidationLimits = DEFAULT_VALIDATION_LIMITS, oldRev?: string): Promise<{ issues: string[]; warnings: string[] }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./validate-worker.js', import.meta.url), {
      workerData: { gitDir, revision, oldRev },
      resourceLimits: { maxOldGenerationSizeMb: limits.maxMemoryMb },
      env: process.env,
      stdout: false,
      stderr: false,
    });
    let settled = false;
    const done = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const timer = setTimeout(() => done(() => {
      void worker.terminate();
      resolve({ issues: [`validation took longer than ${limits.timeoutMs / 1000} s: the revision is refused (split very large files, e.g. mappings with many thousands of keys)`], warnings: [] });
    }), limits.timeoutMs);
    worker.on('message', (report: { issues: string[]; warnings: string[] }) => done(() => resolve(report)));
    worker.on('error', (err: Error & { code?: string }) => done(() => {
      if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') resolve({ issues: [`validation needed more than ${limits.maxMemoryMb} MiB of memory: the revision is refused (split very large files)`], warnings: [] });
      else reject(err);
    }));
    worker.on('exit', (code) => done(() => reject(new Error(`validation worker exited with code ${code} before answering`))));
  });
}

/** Which pushed refs are validated; anything else under refs/ is refused (agents only follow branches and tags). */
function refKind(ref: string): 'validate' | 'refuse' {
  return ref.startsWith('refs/heads/') || ref.startsWith('refs/tags/') ? 'validate' : 'refuse';
}

/** Reads `--timeout-ms N --max-memory-mb N` from the hook's arguments over the defaults. */
export function limitsFromArgs(argv: readonly string[]): ValidationLimits {
  const num = (flag: string, fallback: number): number => {
    const i = argv.indexOf(flag);
    const v = i >= 0 ? Number(argv[i + 1]) : NaN;
    return Number.isFinite(v) && v > 0 ? v : fallback;
  };
  return { timeoutMs: num('--timeout-ms', DEFAULT_VALIDATION_LIMITS.timeoutMs), maxMemoryMb: num('--max-memory-mb', DEFAULT_VALIDATION_LIMITS.maxMemoryMb) };
}

/** Hook entry point: exit 1 (push refused) when any pushed branch or tag fails validation, or another ref is pushed. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const gitDir = process.env.GIT_DIR ?? '.';
  const limits = limitsFromArgs(argv);
  let refused = false;
  for (const u of parseRefUpdates(readFileSync(0, 'utf8'))) {
    if (ZERO.test(u.newRev)) continue;
    if (refKind(u.ref) === 'refuse') {
      refused = true;
      process.stderr.write(`foundry: push refused: ${u.ref}: only branches (refs/heads/...) and tags (refs/tags/...) may be pushed, and each is validated\n`);
      continue;
    }
    const { issues, warnings } = await validateRevisionBounded(gitDir, u.newRev, limits, u.oldRev);
    if (warnings.length > 0) {
      process.stderr.write(`foundry: ${u.ref} at ${u.newRev.slice(0, 12)}: ${warnings.length} warning${warnings.length === 1 ? '' : 's'}:\n`);
      for (const line of warnings) process.stderr.write(`  ${line}\n`);
    }
    if (issues.length === 0) continue;
    refused = true;
    process.stderr.write(`foundry: push refused: ${u.ref} at ${u.newRev.slice(0, 12)} fails validation (${issues.length} issue${issues.length === 1 ? '' : 's'}):\n`);
    for (const line of issues) process.stderr.write(`  ${line}\n`);
  }
  process.exitCode = refused ? 1 : 0;
}

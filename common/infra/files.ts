/**
 * Finds the YAML files of an infra repo and reads them safely: no symbolic links, nothing outside the
 * repo root, no file over the size limit. Problems become INFRA_FILE issues naming the file.
 */
import { lstat, readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import type { InfraIssue } from './model.js';
import { byteIssues } from './yaml-hygiene.js';

/** Default size limit of one YAML file: 1 MiB. */
export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;

/** A YAML file read from the repo: its path relative to the repo root (with '/') and its text. */
export interface RepoFile {
  file: string;
  text: string;
  /** Its bytes were refused (invalid UTF-8, NUL) and reported: parsed only to learn its documents' names. */
  refused?: true;
}

const YAML_FILE = /\.ya?ml$/;

function fileIssue(file: string, message: string): InfraIssue {
  return { code: 'INFRA_FILE', file, line: 1, column: 1, path: '', message };
}

function display(root: string, p: string): string {
  const rel = relative(root, p).split(sep).join('/');
  return rel === '' ? '.' : rel;
}

/** True when `p` is `root` or lies under it (both resolved). */
export function isInside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && !/^[A-Za-z]:/.test(rel));
}

/**
 * Reads every *.yaml / *.yml under `root`/`subPath` (recursively, sorted by path, dot-files and
 * dot-directories such as .git and .gitlab-ci.yml skipped), collecting issues for what it refuses.
 * Undefined when the path itself is unusable (missing, or outside the repo).
 */
export async function readRepoFiles(root: string, subPath: string | undefined, maxFileBytes: number, issues: InfraIssue[]): Promise<RepoFile[] | undefined> {
  const realRoot = await realpath(root);
  const start = resolve(realRoot, subPath ?? '.');
  const startName = display(realRoot, start);
  if (!isInside(realRoot, start)) {
    issues.push(fileIssue(startName, 'path leaves the repo: expected a sub-path inside the repo'));
    return undefined;
  }
  let realStart: string;
  try {
    realStart = await realpath(start);
  } catch {
    issues.push(fileIssue(startName, 'path does not exist in the repo'));
    return undefined;
  }
  if (!isInside(realRoot, realStart)) {
    issues.push(fileIssue(startName, `path resolves outside the repo (to ${realStart}): links may not leave the repo`));
    return undefined;
  }
  if (!(await lstat(realStart)).isDirectory()) {
    issues.push(fileIssue(startName, 'path is not a folder: expected the folder that holds the infra files'));
    return undefined;
  }
  const paths: { full: string; name: string }[] = [];
  await walk(realRoot, realStart, issues, paths);
  // Sizes first (oversized files are never read), then the texts, in parallel batches, keeping the sorted order.
  const texts: (string | undefined)[] = new Array(paths.length);
  const refused = new Set<number>();
  for (let i = 0; i < paths.length; i += READ_BATCH) {
    await Promise.all(paths.slice(i, i + READ_BATCH).map(async (p, k) => {
      const { size } = await lstat(p.full);
      if (size > maxFileBytes) issues.push(fileIssue(p.name, `file is too large (${size} bytes): expected at most ${maxFileBytes} bytes; split it into several files`));
      // Refused bytes (invalid UTF-8, NUL) are never decoded with silent replacement characters.
      if (size > maxFileBytes) return;
      const bytes = await readFile(p.full);
      const bad = byteIssues(bytes, p.name);
      issues.push(...bad);
      texts[i + k] = bytes.toString('utf8');
      if (bad.length > 0) refused.add(i + k);
    }));
  }
  return paths.flatMap((p, i) => (texts[i] === undefined ? [] : [{ file: p.name, text: texts[i]!, ...(refused.has(i) ? { refused: true as const } : {}) }]));
}

/** Files read at once. */
const READ_BATCH = 64;

async function walk(root: string, dir: string, issues: InfraIssue[], out: { full: string; name: string }[]): Promise<void> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const full = join(dir, entry.name);
    const name = display(root, full);
    if (entry.isSymbolicLink()) {
      // Links to YAML files or folders could pull in files from outside the repo; other links are never read.
      const target = await realpath(full).catch(() => undefined);
      const isDir = target !== undefined && (await lstat(target)).isDirectory();
      if (!YAML_FILE.test(entry.name) && !isDir) continue;
      const written = await readlink(full);
      const where = target === undefined ? 'a missing file' : isInside(root, target) ? 'inside the repo' : 'outside the repo';
      issues.push(fileIssue(name, `symbolic link refused (points to ${written}, ${where}): expected a regular file or folder`));
      continue;
    }
    if (entry.isDirectory()) {
      await walk(root, full, issues, out);
      continue;
    }
    if (!entry.isFile() || !YAML_FILE.test(entry.name)) continue;
    out.push({ full, name });
  }
}

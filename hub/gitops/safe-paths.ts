/**
 * Guards of the hub's repo writer against a checkout steered by the repo's content: a folder committed as
 * a symbolic link (`workspaces/globex -> ../../infra.git`) would make a plain write land outside the
 * worktree (in the hub's own bare repo, say). Every component of a path the writer touches must be a real
 * folder (or, the last one, a regular file or nothing) inside the worktree; nothing is followed.
 */
import { lstatSync, realpathSync } from 'node:fs';
import { isAbsolute, join, posix, relative, sep } from 'node:path';
import { FoundryError } from '../../common/errors.js';

/** Folders of the infra repo the hub writes to (workspace files, node files); links are refused there at push time. */
export const HUB_WRITTEN_FOLDERS = ['workspaces', 'nodes'] as const;

/** `path` normalized relative to the repo root with '/'; throws BAD_REQUEST when it leaves the repo or names .git. */
export function repoRelative(path: string): string {
  const rel = posix.normalize(path);
  if (isAbsolute(path) || rel.startsWith('../') || rel === '..' || rel === '.' || rel.split('/')[0] === '.git') {
    throw new FoundryError('BAD_REQUEST', `refusing to write outside the infra repo: ${path}`, { resource: path });
  }
  return rel;
}

/**
 * Throws INFRA_FILE when any existing component of `rel` under `root` is a symbolic link (or the file is
 * anything but a regular file), or when the resolved parent lies outside `root`. Missing components are fine:
 * the writer creates them as real folders.
 */
export function assertPlainPath(root: string, rel: string): void {
  const parts = rel.split('/');
  let cur = root;
  for (let i = 0; i < parts.length; i++) {
    cur = join(cur, parts[i]!);
    let st;
    try {
      st = lstatSync(cur);
    } catch {
      break; // missing from here on: created as plain folders and a file
    }
    const shown = parts.slice(0, i + 1).join('/');
    if (st.isSymbolicLink()) {
      throw new FoundryError('INFRA_FILE', `refusing to write ${rel}: ${shown} is a symbolic link in the infra repo; the hub never follows links (replace it with a real folder or file)`, { resource: shown });
    }
    const last = i === parts.length - 1;
    if (!last && !st.isDirectory()) throw new FoundryError('INFRA_FILE', `refusing to write ${rel}: ${shown} is not a folder`, { resource: shown });
    if (last && !st.isFile()) throw new FoundryError('INFRA_FILE', `refusing to write ${rel}: it exists and is not a regular file`, { resource: rel });
  }
  // Belt and braces: whatever exists of the parent must resolve inside the worktree.
  const realRoot = realpathSync(root);
  let probe = join(root, ...parts.slice(0, -1));
  for (;;) {
    try {
      probe = realpathSync(probe);
      break;
    } catch {
      probe = join(probe, '..');
    }
  }
  const out = relative(realRoot, probe);
  if (out.split(sep)[0] === '..' || isAbsolute(out)) {
    throw new FoundryError('INFRA_FILE', `refusing to write ${rel}: it resolves outside the hub's infra clone`, { resource: rel });
  }
}

/** One entry of `git ls-tree -r -z`: mode, type, object and path. */
export interface TreeEntry {
  mode: string;
  type: string;
  object: string;
  path: string;
}

/** Parses `git ls-tree [-r] -z` output. */
export function parseLsTree(out: string): TreeEntry[] {
  return out
    .split('\0')
    .filter((l) => l !== '')
    .map((l) => {
      const tab = l.indexOf('\t');
      const [mode = '', type = '', object = ''] = l.slice(0, tab).split(' ');
      return { mode, type, object, path: l.slice(tab + 1) };
    });
}

/** Symbolic links (mode 120000) and submodules (160000) at or under the folders the hub writes to. */
export function linksInHubFolders(entries: readonly TreeEntry[]): TreeEntry[] {
  return entries.filter((e) => (e.mode === '120000' || e.mode === '160000') && HUB_WRITTEN_FOLDERS.some((f) => e.path === f || e.path.startsWith(`${f}/`)));
}

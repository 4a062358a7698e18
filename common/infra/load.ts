/**
 * Loads an infra repo from a directory: every YAML document under the path, parsed with positions,
 * validated against its kind's schema, then cross-checked. Collects every issue, never stops at the first.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { PROFILE_DIR } from '../paths.js';
import { crossCheck } from './cross-check.js';
import { checkSecretFiles } from './secret-checks.js';
import { DEFAULT_MAX_FILE_BYTES, readRepoFiles } from './files.js';
import { emptyInfraRepo, type InfraIssue, type InfraRepo, type Located } from './model.js';
import { parseRepoFile, type InvalidNames, type LoadedDoc } from './parse-docs.js';
import { compareText } from '../text-order.js';

/** Options of loadInfraDir. */
export interface LoadOptions {
  /** Revision the directory holds (a commit SHA); 'worktree' when absent. */
  revision?: string;
  /** Folder inside the repo that holds the infra files (default: the whole repo). */
  subPath?: string;
  /** Size limit per YAML file (default 1 MiB). */
  maxFileBytes?: number;
  /** Folder of the built-in node profiles (default: node-profiles/ of this package). */
  builtinProfileDir?: string;
}

/** Prefix of the file names of built-in profiles in issues, so they are not mistaken for repo files. */
export const BUILTIN_PREFIX = 'builtin:node-profiles/';

/** Loads, validates and cross-checks the infra repo at `dir`. The result lists every issue found. */
export async function loadInfraDir(dir: string, opts: LoadOptions = {}): Promise<InfraRepo> {
  const issues: InfraIssue[] = [];
  const invalid: InvalidNames = new Set();
  const builtins = await loadBuiltinProfiles(opts.builtinProfileDir ?? PROFILE_DIR, issues, invalid);
  const files = await readRepoFiles(dir, opts.subPath, opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES, issues);
  const docs = (files ?? []).flatMap((f) => parseRepoFile(f, issues, invalid));
  const repo = assemble(opts.revision ?? 'worktree', builtins, docs, issues);
  // Cross-checks on a path that could not be read would only add noise (no Cluster, ...).
  if (files !== undefined) {
    crossCheck(repo, docs, invalid, posix.normalize(opts.subPath ?? '.').replace(/\/+$/, '').replace(/^\.$/, ''));
    await checkSecretFiles(repo, dir, repo.issues);
  }
  repo.issues = sortIssues(repo.issues);
  if (repo.warnings !== undefined) repo.warnings = sortIssues(repo.warnings);
  return repo;
}

/** Parses the built-in node profiles (node-profiles/*.yaml). */
export async function loadBuiltinProfiles(dir: string, issues: InfraIssue[], invalid: InvalidNames): Promise<LoadedDoc[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /\.ya?ml$/.test(n)).sort();
  const out: LoadedDoc[] = [];
  for (const name of names) {
    const text = await readFile(join(dir, name), 'utf8');
    out.push(...parseRepoFile({ file: `${BUILTIN_PREFIX}${name}`, text }, issues, invalid, true).filter((d) => d.kind === 'NodeProfile'));
  }
  return out;
}

/** Fills the repo maps: built-in profiles first, repo profiles of the same name replace them; for duplicates the first one wins (cross-check reports the rest). */
function assemble(revision: string, builtins: LoadedDoc[], docs: LoadedDoc[], issues: InfraIssue[]): InfraRepo {
  const repo = emptyInfraRepo(revision, issues);
  for (const b of builtins) repo.profiles.set(b.name, b.located as Located<never>);
  const repoProfiles = new Set<string>();
  for (const d of docs) {
    if (d.kind === 'Cluster') {
      repo.cluster ??= d.located as Located<never>;
      continue;
    }
    const map = mapOf(repo, d.kind);
    if (d.kind === 'NodeProfile') {
      if (repoProfiles.has(d.name)) continue;
      repoProfiles.add(d.name);
      map.set(d.name, d.located as Located<never>);
    } else if (!map.has(d.name)) {
      map.set(d.name, d.located as Located<never>);
    }
  }
  return repo;
}

function mapOf(repo: InfraRepo, kind: Exclude<LoadedDoc['kind'], 'Cluster'>): Map<string, Located<never>> {
  const maps = {
    Node: repo.nodes,
    NodeProfile: repo.profiles,
    Service: repo.services,
    WorkspaceTemplate: repo.templates,
    Tenant: repo.tenants,
    Workspace: repo.workspaces,
    PriceList: repo.priceLists,
    IdentityProvider: repo.identityProviders,
    Secret: repo.secrets,
  } as unknown as Record<string, Map<string, Located<never>>>;
  return maps[kind]!;
}

/** Issues in reading order: by file, line, column, then message; exact duplicates dropped. */
export function sortIssues(issues: InfraIssue[]): InfraIssue[] {
  const seen = new Set<string>();
  return [...issues]
    .sort((a, b) => compareText(a.file, b.file) || a.line - b.line || a.column - b.column || compareText(a.path, b.path) || compareText(a.message, b.message))
    .filter((i) => {
      const key = `${i.file}:${i.line}:${i.column}:${i.path}:${i.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

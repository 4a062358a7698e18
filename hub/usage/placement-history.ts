/**
 * The Git history of placements: for each commit of the infra repo's branch (first-parent order, at its
 * commit time), which workspace was on which node, with which GPUs, tenant, state and template limits,
 * kept as spans per workspace. Built incrementally: a refresh reads only the commits since the last one
 * (one `git log --raw` for the file changes, one `git cat-file --batch` for the new YAML blobs, each blob
 * parsed once); a rewritten branch (force push) is read again from scratch. In external repo mode it reads
 * the writer's clone, and each refresh first fetches (throttled with it: at most one fetch per `minRefreshMs`).
 */
import { FoundryError } from '../../common/errors.js';
import { git, runGit, runGitBytes } from '../../common/git-run.js';
import type { PlacementLookup, PlacementSpan } from './admission.js';
import { declaredGpuModels, parsePlacementDocs, placementOf, samePlacement, templateOf, type Placement, type PlacementDoc } from './placements.js';

/** Options of PlacementHistory. */
export interface PlacementHistoryOptions {
  /** A git dir holding the branch: the hosted bare repo, or the repo writer's clone (external repo mode). */
  gitDir: string;
  branch?: string;
  /** The ref to read (default refs/heads/<branch>; a clone's remote-tracking ref in external repo mode). */
  ref?: string;
  /** Runs before each read, within the throttle: brings `ref` up to date (the writer's `git fetch`); a rejection fails the refresh. */
  beforeRead?: () => Promise<unknown>;
  /** Hub clock, epoch ms. */
  now?: () => number;
  /** Least time between two refreshes started by `freshSince` (default 1 s): bounds the git work a flood of records can cause. */
  minRefreshMs?: number;
}

interface Commit {
  sha: string;
  time: number;
  changes: Array<{ path: string; blob: string | null }>;
}

const YAML = /\.ya?ml$/;
const ZERO = /^0+$/;

/** Parses `git log --format=@@%H %ct --raw` output into commits with their file changes. */
export function parseRawLog(out: string): Commit[] {
  const commits: Commit[] = [];
  for (const line of out.split('\n')) {
    if (line.startsWith('@@')) {
      const [sha, ct] = line.slice(2).split(' ');
      commits.push({ sha: sha ?? '', time: Number(ct) * 1000, changes: [] });
    } else if (line.startsWith(':')) {
      const tab = line.indexOf('\t');
      const fields = line.slice(1, tab).split(' ');
      const blob = fields[3] ?? '';
      commits.at(-1)?.changes.push({ path: line.slice(tab + 1), blob: ZERO.test(blob) || fields[4] === 'D' ? null : blob });
    }
  }
  return commits;
}

/** Splits `git cat-file --batch` output into blob id → text. */
export function parseCatFileBatch(out: Buffer): Map<string, string> {
  const blobs = new Map<string, string>();
  let at = 0;
  while (at < out.length) {
    const nl = out.indexOf(0x0a, at);
    if (nl < 0) break;
    const [id, type, size] = out.subarray(at, nl).toString('utf8').split(' ');
    if (type === 'missing' || size === undefined) {
      at = nl + 1;
      continue;
    }
    const end = nl + 1 + Number(size);
    blobs.set(id ?? '', out.subarray(nl + 1, end).toString('utf8'));
    at = end + 1;
  }
  return blobs;
}

/** Placement spans per workspace from the infra repo's history; `freshSince` keeps it current. */
export class PlacementHistory implements PlacementLookup {
  private tip: string | undefined;
  private readonly paths = new Map<string, string>();
  private parsed = new Map<string, PlacementDoc[]>();
  private readonly current = new Map<string, Placement>();
  /** The tip's Workspace documents and template specs, by name (kept in step with `paths`). */
  private readonly workspaces = new Map<string, PlacementDoc>();
  private readonly templates = new Map<string, Record<string, unknown>>();
  private readonly byWorkspace = new Map<string, PlacementSpan[]>();
  private models = new Map<string, Map<string, string>>();
  private lastTime = -Infinity;
  private refreshing: Promise<void> | undefined;
  /** Hub time at which the last refresh started (-Infinity: never). */
  startedAt = -Infinity;
  private readonly now: () => number;

  constructor(private readonly opts: PlacementHistoryOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Every placement span of a workspace, oldest first. */
  spans(workspace: string): readonly PlacementSpan[] {
    return this.byWorkspace.get(workspace) ?? [];
  }

  /** GPU models the Node file of `node` declares at the branch tip, by UUID. */
  gpuModels(node: string): ReadonlyMap<string, string> {
    return this.models.get(node) ?? new Map();
  }

  /** Resolves once a refresh that started at or after `since` (hub ms) has finished. */
  async freshSince(since: number): Promise<void> {
    while (this.startedAt < since) {
      this.refreshing ??= this.throttled().finally(() => { this.refreshing = undefined; });
      await this.refreshing;
    }
  }

  /** Resolves when no refresh is in flight (at once when none is). */
  async settled(): Promise<void> {
    await this.refreshing;
  }

  /** Reads new commits now (single-flight with other refreshes). */
  refresh(): Promise<void> {
    return this.freshSince(this.now());
  }

  private async throttled(): Promise<void> {
    const wait = this.startedAt + (this.opts.minRefreshMs ?? 1000) - this.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    this.startedAt = this.now();
    await this.read();
  }

  private async read(): Promise<void> {
    const dir = this.opts.gitDir;
    await this.opts.beforeRead?.();
    const ref = this.opts.ref ?? `refs/heads/${this.opts.branch ?? 'main'}`;
    const head = await runGit(['--git-dir', dir, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
    if (head.code !== 0) return; // no commits yet: nothing is placed
    const tip = head.stdout.trim();
    if (tip === this.tip) return;
    let range = tip;
    if (this.tip !== undefined) {
      if ((await runGit(['--git-dir', dir, 'merge-base', '--is-ancestor', this.tip, tip])).code === 0) range = `${this.tip}..${tip}`;
      else this.reset();
    }
    const out = await git(['-c', 'core.quotePath=false', '--git-dir', dir, 'log', '--first-parent', '--reverse', '--root', '--no-renames', '--diff-merges=first-parent', '--raw', '--no-abbrev', '--format=@@%H %ct', range], 'git log (placement history)');
    const commits = parseRawLog(out);
    await this.load(commits);
    for (const c of commits) this.apply(c);
    this.tip = tip;
    // keep parsed blobs of the tip only: older versions are never read again
    const live = new Set(this.paths.values());
    this.parsed = new Map([...this.parsed].filter(([blob]) => live.has(blob)));
    this.models = declaredGpuModels(this.docs());
  }

  private reset(): void {
    this.tip = undefined;
    this.paths.clear();
    this.current.clear();
    this.workspaces.clear();
    this.templates.clear();
    this.byWorkspace.clear();
    this.lastTime = -Infinity;
  }

  /** Reads and parses every YAML blob the commits add that is not parsed yet. */
  private async load(commits: Commit[]): Promise<void> {
    const want = new Set<string>();
    for (const c of commits) for (const ch of c.changes) if (ch.blob !== null && YAML.test(ch.path) && !this.parsed.has(ch.blob)) want.add(ch.blob);
    if (want.size === 0) return;
    const r = await runGitBytes(['--git-dir', this.opts.gitDir, 'cat-file', '--batch'], [...want].join('\n') + '\n');
    if (r.code !== 0) throw new FoundryError('GIT_REVISION', `git cat-file (placement history) failed: ${r.stderr.trim()}`);
    for (const [blob, text] of parseCatFileBatch(r.stdout)) this.parsed.set(blob, parsePlacementDocs(text));
  }

  private docs(): PlacementDoc[] {
    return [...this.paths.values()].flatMap((b) => this.parsed.get(b) ?? []);
  }

  /**
   * Applies one commit: its YAML file changes, then the new placement of every workspace they touch (its
   * document changed, or its template did) as a span end and start at the commit's time. Work is per
   * changed document, not per document of the repo.
   */
  private apply(c: Commit): void {
    const touched = new Set<string>();
    const templates = new Set<string>();
    const index = (blob: string | undefined, add: boolean): void => {
      for (const d of blob === undefined ? [] : (this.parsed.get(blob) ?? [])) {
        if (d.kind === 'Workspace') {
          touched.add(d.name);
          if (add) this.workspaces.set(d.name, d);
          else if (this.workspaces.get(d.name) === d) this.workspaces.delete(d.name);
        } else if (d.kind === 'WorkspaceTemplate') {
          templates.add(d.name);
          if (add) this.templates.set(d.name, d.spec);
          else if (this.templates.get(d.name) === d.spec) this.templates.delete(d.name);
        }
      }
    };
    for (const ch of c.changes) {
      if (!YAML.test(ch.path)) continue;
      index(this.paths.get(ch.path), false);
      if (ch.blob === null) this.paths.delete(ch.path);
      else this.paths.set(ch.path, ch.blob);
      index(ch.blob ?? undefined, true);
    }
    if (templates.size > 0) for (const [name, w] of this.workspaces) if (templates.has(templateOf(w))) touched.add(name);
    if (touched.size === 0) return;
    // commit times may go backwards (an admin's clock): spans stay ordered
    const t = Math.max(c.time, this.lastTime);
    this.lastTime = t;
    for (const name of touched) {
      const doc = this.workspaces.get(name);
      const after = doc === undefined ? undefined : placementOf(doc, this.templates);
      const before = this.current.get(name);
      if (before !== undefined && after !== undefined && samePlacement(before, after)) continue;
      if (before === undefined && after === undefined) continue;
      const list = this.byWorkspace.get(name) ?? [];
      const open = list.at(-1);
      if (open !== undefined && open.to === null) open.to = t;
      if (after !== undefined) list.push({ workspace: name, tenant: after.tenant, node: after.node, gpuUuids: after.gpuUuids, running: after.running, limits: after.limits, from: t, to: null });
      this.byWorkspace.set(name, list);
      if (after === undefined) this.current.delete(name);
      else this.current.set(name, after);
    }
  }
}

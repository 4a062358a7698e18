/**
 * The one way the hub writes to the infra repo. A private clone in `workDir`; each commit fetches and
 * hard-resets to the branch tip, asks `build` what to change (build re-reads the checkout and re-plans),
 * writes, commits as foundry-hub and pushes. A push that lost a race (non-fast-forward) is retried from
 * a fresh fetch with jittered backoff; a push the pre-receive hook refuses becomes GIT_PUSH_REJECTED
 * carrying the hook's messages. Commits are serialized: one at a time per writer.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { FoundryError } from '../../common/errors.js';
import { gitErrorText } from '../../common/git-message.js';
import { runGit, type GitResult } from '../../common/git-run.js';
import { assertPlainPath, parseLsTree, repoRelative } from './safe-paths.js';

/** One file to write (content) or delete (null), relative to the repo root with '/' separators. */
export interface FileChange {
  path: string;
  content: string | null;
}

/** What a build step wants committed. */
export interface CommitPlan {
  changes: FileChange[];
  message: string;
}

/** Decides the changes from a fresh checkout at `revision` ('' for an empty repo); undefined: nothing to do. */
export type BuildFn = (dir: string, revision: string) => Promise<CommitPlan | undefined>;

/** Options of InfraRepoWriter. */
export interface InfraRepoWriterOptions {
  /** The bare hosted repo, or a remote URL. */
  repoDir: string;
  /** Where the private clone lives (created when missing). */
  workDir: string;
  branch?: string;
  author?: { name: string; email: string };
  /** Extra `git -c` settings (on git's argv: nothing secret here). */
  gitConfig?: string[];
  /** Extra environment of every git command: the external repo's credential (repo-credential.ts); never logged. */
  gitEnv?: Record<string, string>;
  /** Checked on the branch tip before each commit on top of it (the hub's signature policy); throws to refuse. */
  verifyBase?: (dir: string, revision: string) => Promise<void>;
  /** Called after every successful push with the new revision (the hub tells agents to sync). */
  onPushed?: (revision: string) => void;
  /** Tries per commit when pushes keep losing races (default 8). */
  maxAttempts?: number;
  /** Upper bound of the first backoff in ms (doubles per attempt, capped at 1 s; default 50). */
  backoffMs?: number;
  random?: () => number;
}

const REJECTED_RACE = /\(fetch first\)|\(non-fast-forward\)|\(stale info\)|failed to update ref|cannot lock ref|incorrect old value/;

/** Writes to the infra repo through commits and pushes. */
export class InfraRepoWriter {
  readonly branch: string;
  private readonly author: { name: string; email: string };
  private tail: Promise<unknown> = Promise.resolve();
  private ready: Promise<void> | undefined;

  constructor(private readonly opts: InfraRepoWriterOptions) {
    this.branch = opts.branch ?? 'main';
    this.author = opts.author ?? { name: 'foundry-hub', email: 'hub@foundry.invalid' };
  }

  /**
   * Commits what `build` returns and pushes it; undefined when build had nothing to do. `onPushed` hears
   * this commit's revision as soon as it is pushed, before the writer's own `onPushed` (the workspace
   * service tells its own commits from the others' this way: enrollment shares the writer).
   */
  commit(build: BuildFn, onPushed?: (revision: string) => void): Promise<{ revision: string } | undefined> {
    return this.serial(() => this.commitWithRetry(build, onPushed));
  }

  /** Runs `fn` on a fresh checkout of the branch tip (serialized with commits; fn must not write). */
  read<T>(fn: (dir: string, revision: string) => Promise<T>): Promise<T> {
    return this.serial(async () => fn(this.opts.workDir, await this.sync()));
  }

  /** The clone's remote-tracking ref of the branch: every fetch of the writer (sync, `fetch`) updates it. */
  get trackingRef(): string {
    return `refs/remotes/origin/${this.branch}`;
  }

  /**
   * Fetches the branch into `trackingRef` without touching the checkout (serialized with commits, so two
   * fetches never race for the ref lock); returns its revision, '' when the branch does not exist yet.
   */
  fetch(): Promise<string> {
    return this.serial(async () => {
      await this.init();
      const r = await this.git(['fetch', '--quiet', '--no-tags', 'origin', `+refs/heads/${this.branch}:${this.trackingRef}`]);
      if (r.code === 0) return (await this.mustGit(['rev-parse', this.trackingRef], 'git rev-parse')).trim();
      if (/couldn't find remote ref/i.test(r.stderr)) return '';
      throw new FoundryError('GIT_FETCH', `cannot fetch the infra repo: ${gitFailure(r.stderr)}`);
    });
  }

  /** The branch tip's revision on the remote ('' when the branch does not exist yet). */
  async tip(): Promise<string> {
    await this.init();
    const r = await this.git(['ls-remote', 'origin', `refs/heads/${this.branch}`]);
    if (r.code !== 0) throw new FoundryError('GIT_FETCH', `cannot read the infra repo's ${this.branch}: ${gitFailure(r.stderr)}`);
    return r.stdout.split(/\s/)[0] ?? '';
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async commitWithRetry(build: BuildFn, onPushed: ((revision: string) => void) | undefined): Promise<{ revision: string } | undefined> {
    const max = this.opts.maxAttempts ?? 8;
    const random = this.opts.random ?? Math.random;
    for (let attempt = 1; ; attempt++) {
      const base = await this.sync();
      const plan = await build(this.opts.workDir, base);
      if (plan === undefined) return undefined;
      if (base !== '') await this.opts.verifyBase?.(this.opts.workDir, base);
      this.apply(plan.changes);
      await this.mustGit(['add', '-A', '--', '.'], 'git add');
      if ((await this.git(['diff', '--cached', '--quiet'])).code === 0) {
        // Nothing staged: fine only when the tip already holds exactly what was asked.
        if (base !== '') await this.assertInTree(base, plan.changes);
        return { revision: base };
      }
      await this.mustGit(['-c', `user.name=${this.author.name}`, '-c', `user.email=${this.author.email}`, 'commit', '--quiet', '--no-verify', '-m', plan.message], 'git commit');
      const revision = (await this.mustGit(['rev-parse', 'HEAD'], 'git rev-parse')).trim();
      await this.assertInTree(revision, plan.changes);
      const push = await this.git(['push', '--porcelain', 'origin', `HEAD:refs/heads/${this.branch}`]);
      if (push.code === 0) {
        await this.assertOnBranch(revision);
        onPushed?.(revision);
        this.opts.onPushed?.(revision);
        return { revision };
      }
      const text = `${push.stdout}\n${push.stderr}`;
      if (/hook declined/.test(text)) {
        const messages = hookMessages(push.stderr);
        throw new FoundryError('GIT_PUSH_REJECTED', `the infra repo refused the commit "${plan.message.split('\n')[0]}": ${messages.join('; ') || gitFailure(push.stderr)}`, {
          details: { messages },
        });
      }
      if (!REJECTED_RACE.test(text)) throw new FoundryError('GIT_FETCH', `push to the infra repo failed: ${gitFailure(push.stderr)}`);
      if (attempt >= max) throw new FoundryError('GIT_PUSH_CONFLICT', `push to the infra repo still lost to concurrent pushes after ${max} attempts`);
      const cap = Math.min((this.opts.backoffMs ?? 50) * 2 ** (attempt - 1), 1000);
      await new Promise((r) => setTimeout(r, Math.floor(random() * cap)));
    }
  }

  /** Fetches and hard-resets the clone to the branch tip; returns its revision ('' for an empty branch). */
  private async sync(): Promise<string> {
    await this.init();
    const fetch = await this.git(['fetch', '--quiet', '--no-tags', 'origin', `+refs/heads/${this.branch}:refs/remotes/origin/${this.branch}`]);
    if (fetch.code !== 0) {
      if (!/couldn't find remote ref/i.test(fetch.stderr)) throw new FoundryError('GIT_FETCH', `cannot fetch the infra repo: ${gitFailure(fetch.stderr)}`);
      // empty repo: start an orphan branch with an empty tree
      await this.mustGit(['symbolic-ref', 'HEAD', `refs/heads/${this.branch}`], 'git symbolic-ref');
      await this.git(['update-ref', '-d', `refs/heads/${this.branch}`]);
      await this.mustGit(['read-tree', '--empty'], 'git read-tree');
      await this.mustGit(['clean', '-fdxq'], 'git clean');
      return '';
    }
    await this.mustGit(['checkout', '--quiet', '--force', '-B', this.branch, `refs/remotes/origin/${this.branch}`], 'git checkout');
    await this.mustGit(['reset', '--quiet', '--hard', `refs/remotes/origin/${this.branch}`], 'git reset');
    await this.mustGit(['clean', '-fdxq'], 'git clean');
    return (await this.mustGit(['rev-parse', 'HEAD'], 'git rev-parse')).trim();
  }

  private init(): Promise<void> {
    this.ready ??= (async () => {
      const dir = this.opts.workDir;
      // An existing clone follows the configured repo (the URL may have changed between runs).
      if (existsSync(join(dir, '.git'))) return void (await this.mustGit(['remote', 'set-url', 'origin', this.opts.repoDir], 'git remote set-url'));
      mkdirSync(dir, { recursive: true });
      await this.mustGit(['init', '--quiet', `--initial-branch=${this.branch}`, '.'], 'git init');
      // A local repo given relative to the caller's folder is made absolute: git resolves a relative
      // remote from the clone's folder, where it names nothing.
      const remote = existsSync(this.opts.repoDir) ? resolve(this.opts.repoDir) : this.opts.repoDir;
      await this.mustGit(['remote', 'add', 'origin', remote], 'git remote add');
    })();
    this.ready.catch(() => (this.ready = undefined));
    return this.ready;
  }

  /** Writes the changes into the clone; never through a link (a linked folder could lead out of the worktree). */
  private apply(changes: FileChange[]): void {
    for (const c of changes) {
      const rel = repoRelative(c.path);
      assertPlainPath(this.opts.workDir, rel);
      const abs = join(this.opts.workDir, rel);
      if (c.content === null) rmSync(abs, { force: true });
      else {
        mkdirSync(dirname(abs), { recursive: true });
        writeFileSync(abs, c.content);
      }
    }
  }

  /** Throws unless commit `revision` holds every change: the content as a regular file, or no entry for a deletion. */
  private async assertInTree(revision: string, changes: FileChange[]): Promise<void> {
    for (const c of changes) {
      const rel = repoRelative(c.path);
      const [entry] = parseLsTree(await this.mustGit(['ls-tree', '-z', '--full-tree', revision, '--', rel], 'git ls-tree'));
      const landed =
        c.content === null
          ? entry === undefined
          : entry !== undefined && entry.mode === '100644' && (await this.mustGit(['cat-file', 'blob', entry.object], 'git cat-file')) === c.content;
      if (!landed) throw new FoundryError('GIT_PUSH_REJECTED', `the hub's change to ${rel} did not land in commit ${revision.slice(0, 12)}: nothing was written to the infra repo`, { resource: rel });
    }
  }

  /** After a push: the remote branch must contain `revision` (a push that reported success elsewhere is not enough). */
  private async assertOnBranch(revision: string): Promise<void> {
    await this.mustGit(['fetch', '--quiet', '--no-tags', 'origin', `+refs/heads/${this.branch}:refs/remotes/origin/${this.branch}`], 'git fetch');
    const r = await this.git(['merge-base', '--is-ancestor', revision, `refs/remotes/origin/${this.branch}`]);
    if (r.code !== 0) throw new FoundryError('GIT_PUSH_REJECTED', `commit ${revision.slice(0, 12)} was pushed but ${this.branch} of the infra repo does not contain it`, { resource: revision });
  }

  private git(args: string[]): Promise<GitResult> {
    // Automatic gc runs in the foreground: a detached gc would outlive the command and could still be
    // writing objects when the hub stops (or a test removes the work clone).
    const cfg = ['gc.autoDetach=false', ...(this.opts.gitConfig ?? [])].flatMap((c) => ['-c', c]);
    const env = {
      ...process.env,
      GIT_TERMINAL_PROMPT: '0',
      GIT_AUTHOR_NAME: this.author.name,
      GIT_AUTHOR_EMAIL: this.author.email,
      GIT_COMMITTER_NAME: this.author.name,
      GIT_COMMITTER_EMAIL: this.author.email,
      ...this.opts.gitEnv,
    };
    return runGit([...cfg, ...args], { cwd: this.opts.workDir, env });
  }

  private async mustGit(args: string[], what: string): Promise<string> {
    const r = await this.git(args);
    if (r.code !== 0) throw new FoundryError('GIT_FETCH', `${what} in the hub's infra clone failed: ${gitFailure(r.stderr)}`);
    return r.stdout;
  }
}

/** git's meaningful stderr line(s); an authentication failure says so plainly (git's own words are about a terminal prompt). */
function gitFailure(text: string): string {
  if (/could not read (Username|Password)|Authentication failed|requested URL returned error: 40[13]/.test(text)) {
    return 'the infra repo refused the hub\'s credential (authentication failed; check --repo-credential-file or FOUNDRY_HUB_REPO_CREDENTIAL)';
  }
  return gitErrorText(text);
}

/** The hook's own lines from push stderr ("remote: ..."), without git's framing. */
export function hookMessages(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('remote: '))
    .map((l) => l.slice('remote: '.length).trim())
    .filter((l) => l !== '');
}

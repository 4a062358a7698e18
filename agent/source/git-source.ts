/**
 * Fetches the infra repo with git (through the one git client, common/git-run.ts) into a cache folder and checks out one
 * revision: the tip of a branch (shallow, depth 1) or a pinned revision (deepened only when needed).
 * Force-pushes are followed; credentials travel in an environment-borne header and are never shown.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FoundryError, errorMessage } from '../../common/errors.js';
import { gitErrorText } from '../../common/git-message.js';
import { runGit } from '../../common/git-run.js';
import { isInside } from '../../common/infra/files.js';
import { isRemoteUrl, redact, splitCredentials, type SplitUrl } from './credentials.js';
import type { FetchedRevision } from './revision-source.js';

/** Where to fetch from and what to check out. */
export interface GitSourceOptions {
  /** https://, ssh://, file:// URL or a local path. https://user:token@host/... is accepted; the token is never shown. */
  url: string;
  /** Branch to follow (default: the remote's HEAD). */
  branch?: string;
  /** Folder inside the repo that holds the infra files. */
  path?: string;
  /** Pinned revision (full or short SHA, tag); overrides the branch tip. */
  revision?: string;
  /** Folder for the local clone (one per URL inside it). */
  cacheDir: string;
  /** Time limit of one fetch, default 60 s. */
  timeoutMs?: number;
  /** Authorization header value (e.g. "Bearer <token>"), instead of credentials in the URL. */
  authHeader?: string;
  /** PEM file of the certificate(s) to trust for an https remote (a hub with a self-signed certificate), instead of the system CAs. */
  caFile?: string;
}

/** A revision fetched from git: always in a worktree (its root is known). */
export type GitRevision = FetchedRevision & { root: string };

/** Runs git in the clone, returning stdout; rejects with git's stderr on a non-zero exit (the caller words the error). */
type Git = (args: readonly string[]) => Promise<string>;

/** All git commands of one fetch together ran past the fetch's time limit. */
class FetchTimeout extends Error {}

const FETCHED_REF = 'refs/foundry/fetched';
const REMOTE_HEAD = 'refs/foundry/remote-head';
/** Fetches in progress per clone folder, so that overlapping calls run one after the other. */
const inFlight = new Map<string, Promise<GitRevision>>();
const SAFE_REF = /^(?!-)(?!.*\.\.)[A-Za-z0-9._/^~@{}-]+$/;

/** A git-backed source of the infra repo. */
export class GitSource {
  private readonly opts: GitSourceOptions;
  private readonly remote: SplitUrl;
  /** The URL as it may be shown (credentials removed). */
  readonly displayUrl: string;

  constructor(opts: GitSourceOptions) {
    for (const [name, value] of [['branch', opts.branch], ['revision', opts.revision]] as const) {
      if (value !== undefined && !SAFE_REF.test(value)) throw new FoundryError('CONFIG_INVALID', `invalid ${name} ${JSON.stringify(value)}: expected a git ref name or SHA`);
    }
    this.opts = opts;
    this.remote = splitCredentials(opts.url, opts.authHeader);
    if (!isRemoteUrl(this.remote.url)) this.remote = { ...this.remote, url: resolve(this.remote.url) };
    this.displayUrl = redact(this.remote.url, this.remote.secrets);
  }

  /** Fetches and checks out the wanted revision; returns its SHA and folder. Throws GIT_FETCH (transient) or GIT_REVISION (terminal). */
  async fetch(): Promise<GitRevision> {
    const root = join(this.opts.cacheDir, 'repos', createHash('sha256').update(this.remote.url).digest('hex').slice(0, 16));
    // One git operation per clone at a time (a poll and a sync-now may overlap): they share the worktree.
    const previous = inFlight.get(root) ?? Promise.resolve();
    const mine = previous.catch(() => undefined).then(() => this.fetchInto(root));
    inFlight.set(root, mine);
    try {
      return await mine;
    } finally {
      if (inFlight.get(root) === mine) inFlight.delete(root);
    }
  }

  private async fetchInto(root: string): Promise<GitRevision> {
    await mkdir(root, { recursive: true });
    const timeoutMs = this.opts.timeoutMs ?? 60_000;
    const git = this.git(root, Date.now() + timeoutMs);
    try {
      if (!existsSync(join(root, '.git'))) {
        await git(['init', '--quiet']);
        await git(['remote', 'add', 'origin', this.remote.url]);
      } else {
        await git(['remote', 'set-url', 'origin', this.remote.url]);
      }
      const revision = this.opts.revision !== undefined ? await this.fetchPinned(git, this.opts.revision) : await this.fetchTip(git);
      await git(['checkout', '--quiet', '--force', '--detach', revision]);
      await git(['clean', '-ffdxq']);
      return { revision, dir: await this.subDir(root, revision), root };
    } catch (err) {
      if (err instanceof FoundryError) throw err;
      const why = err instanceof FetchTimeout ? `timed out after ${timeoutMs} ms` : this.clean(errorMessage(err));
      throw new FoundryError('GIT_FETCH', `fetching ${this.displayUrl} failed: ${why}`, { resource: this.displayUrl, cause: new Error(why) });
    }
  }

  /** Tip of the branch (or remote HEAD), depth 1; a force-push simply replaces the fetched ref. */
  private async fetchTip(git: Git): Promise<string> {
    const ref = this.opts.branch === undefined ? 'HEAD' : `refs/heads/${this.opts.branch}`;
    try {
      await git(['fetch', '--quiet', '--depth=1', '--force', '--no-tags', 'origin', `+${ref}:${FETCHED_REF}`]);
    } catch (err) {
      const msg = errorMessage(err);
      if (/couldn't find remote ref/i.test(msg)) {
        throw new FoundryError('GIT_REVISION', `branch ${this.opts.branch ?? 'HEAD'} does not exist in ${this.displayUrl}`, { resource: this.displayUrl });
      }
      throw err;
    }
    return (await git(['rev-parse', FETCHED_REF])).trim();
  }

  /** A pinned revision: first a shallow fetch of exactly that commit, then the full history when the server refuses or it is not a full SHA. */
  private async fetchPinned(git: Git, rev: string): Promise<string> {
    if (/^[0-9a-f]{40}$/i.test(rev)) {
      const found = await this.resolveCommit(git, rev);
      if (found !== undefined) return found;
      await git(['fetch', '--quiet', '--depth=1', '--force', '--no-tags', 'origin', `+${rev}:${FETCHED_REF}`]).catch(rethrowTimeout);
      const shallow = await this.resolveCommit(git, rev);
      if (shallow !== undefined) return shallow;
    }
    const isShallow = (await git(['rev-parse', '--is-shallow-repository'])).trim() === 'true';
    await git(['fetch', '--quiet', '--force', '--tags', ...(isShallow ? ['--unshallow'] : []), 'origin', '+refs/heads/*:refs/remotes/origin/*', `+HEAD:${REMOTE_HEAD}`]);
    // A SHA or tag as it is, a branch name as the remote's branch, HEAD (and HEAD~n) as the remote's HEAD.
    const candidates = [rev, `refs/remotes/origin/${rev}`, rev.replace(/^HEAD(?=$|[~^])/, REMOTE_HEAD)];
    let full: string | undefined;
    for (const c of candidates) if (full === undefined) full = await this.resolveCommit(git, c);
    if (full === undefined) throw new FoundryError('GIT_REVISION', `revision ${rev} does not exist in ${this.displayUrl}`, { resource: this.displayUrl });
    return full;
  }

  private async resolveCommit(git: Git, rev: string): Promise<string | undefined> {
    const out = await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`]).catch((err: unknown) => rethrowTimeout(err) ?? '');
    const sha = out.trim();
    return /^[0-9a-f]{40}$/.test(sha) ? sha : undefined;
  }

  private async subDir(root: string, revision: string): Promise<string> {
    const dir = resolve(root, this.opts.path ?? '.');
    const info = isInside(root, dir) ? await stat(dir).catch(() => undefined) : undefined;
    if (info === undefined || !info.isDirectory()) {
      throw new FoundryError('GIT_REVISION', `path ${this.opts.path} is not a folder of ${this.displayUrl} at ${revision.slice(0, 12)}`, { resource: this.displayUrl });
    }
    return dir;
  }

  /** The git of one fetch in `cwd`: every command gets what is left of the fetch's time until `deadline` (epoch ms). */
  private git(cwd: string, deadline: number): Git {
    const env: Record<string, string> = { GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };
    // Through the environment, not argv or .git/config: no other user and no file ever sees the header.
    const config: Array<[string, string]> = [];
    if (this.remote.authorization !== undefined) config.push(['http.extraHeader', `Authorization: ${this.remote.authorization}`]);
    if (this.opts.caFile !== undefined) config.push(['http.sslCAInfo', this.opts.caFile]);
    config.forEach(([key, value], i) => Object.assign(env, { [`GIT_CONFIG_KEY_${i}`]: key, [`GIT_CONFIG_VALUE_${i}`]: value }));
    if (config.length > 0) env.GIT_CONFIG_COUNT = String(config.length);
    for (const key of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'SSH_AUTH_SOCK']) if (process.env[key] !== undefined) env[key] = process.env[key]!;
    return async (args) => {
      const left = deadline - Date.now();
      if (left <= 0) throw new FetchTimeout();
      const r = await runGit(args, { cwd, env, timeoutMs: left }).catch((err: unknown) => {
        throw new Error(`cannot run git: ${errorMessage(err instanceof Error && err.cause !== undefined ? err.cause : err)}`);
      });
      if (r.timedOut) throw new FetchTimeout();
      if (r.code !== 0) throw new Error(r.stderr.trim() === '' ? `git ${args[0] ?? ''} exited with ${r.code}` : r.stderr);
      return r.stdout;
    };
  }

  private clean(message: string): string {
    return gitErrorText(redact(message, this.remote.secrets));
  }
}

/** For the git commands whose failure only means "not there": a timeout still ends the fetch. */
function rethrowTimeout(err: unknown): undefined {
  if (err instanceof FetchTimeout) throw err;
  return undefined;
}

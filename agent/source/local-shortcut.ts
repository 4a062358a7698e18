/**
 * For an infra repo that is a local git repository: one `git rev-parse` tells whether the branch moved
 * since the last fetch; when it did not, the last fetched revision is reused instead of fetching again
 * (a full fetch and checkout costs several git processes, most of a no-change reconcile).
 */
import { runGit } from '../../common/git-run.js';
import type { FetchedRevision, RevisionSource } from './revision-source.js';

/** Wraps the real source of a local git repo at `repoPath`, following `branch` (default HEAD). */
export class LocalRepoShortcut implements RevisionSource {
  private last: FetchedRevision | undefined;

  constructor(
    private readonly inner: RevisionSource,
    private readonly repoPath: string,
    private readonly branch: string | undefined,
  ) {}

  /** The last fetched revision when the branch still points at it, otherwise a real fetch. */
  async fetch(): Promise<FetchedRevision> {
    if (this.last !== undefined && (await this.head()) === this.last.revision) return this.last;
    this.last = await this.inner.fetch();
    return this.last;
  }

  /** The commit the branch points at now, or undefined when git cannot tell (then a real fetch decides). */
  private async head(): Promise<string | undefined> {
    const ref = this.branch === undefined ? 'HEAD' : `refs/heads/${this.branch}`;
    const r = await runGit(['-C', this.repoPath, 'rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], { timeoutMs: 10_000, env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' } }).catch(() => undefined);
    const sha = r?.stdout.trim() ?? '';
    return r?.code === 0 && /^[0-9a-f]{40}$/.test(sha) ? sha : undefined;
  }
}

/**
 * What the reconciler asks of a source of desired state: fetch the newest revision. GitSource (git URLs
 * and local repos), DirSource (a plain folder) and LocalShortcut (a local repo read in place) implement it.
 */

/** A fetched revision: its id, the folder with the infra files (sub-path included), and the git worktree (for signature checks). */
export interface FetchedRevision {
  revision: string;
  dir: string;
  /** Root of the git worktree holding the commit; absent for a plain directory. */
  root?: string;
}

/** Where revisions come from. */
export interface RevisionSource {
  fetch(): Promise<FetchedRevision>;
}

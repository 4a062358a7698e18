/**
 * A plain local folder as the infra repo (no git): its revision is a hash of the YAML files' paths and
 * contents, so an unchanged folder is the same revision and any saved change is a new one. The files are
 * those the loader reads (common/infra/files.ts: the one walk of an infra folder, same links and limits).
 */
import { createHash } from 'node:crypto';
import { FoundryError, errorMessage } from '../../common/errors.js';
import { DEFAULT_MAX_FILE_BYTES, readRepoFiles } from '../../common/infra/files.js';
import type { InfraIssue } from '../../common/infra/model.js';
import type { FetchedRevision, RevisionSource } from './revision-source.js';

/** Reads a local folder of YAML files. */
export class DirSource implements RevisionSource {
  constructor(private readonly dir: string) {}

  /** The folder itself and a content hash as its revision ("worktree-<hash>"). */
  async fetch(): Promise<FetchedRevision> {
    try {
      const issues: InfraIssue[] = [];
      const files = (await readRepoFiles(this.dir, undefined, DEFAULT_MAX_FILE_BYTES, issues)) ?? [];
      const hash = createHash('sha256');
      for (const f of files) hash.update(f.file).update('\0').update(f.text).update('\0');
      // What the loader refuses (links, oversized files) still changes the revision, so fixing it is seen.
      for (const i of issues) hash.update(JSON.stringify(i)).update('\0');
      return { revision: `worktree-${hash.digest('hex').slice(0, 12)}`, dir: this.dir };
    } catch (err) {
      throw new FoundryError('GIT_FETCH', `cannot read the infra folder ${this.dir}: ${errorMessage(err)}`, { resource: this.dir, cause: err });
    }
  }
}

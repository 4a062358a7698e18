/**
 * A plain local folder as the infra repo (no git): its revision is a hash of the YAML files' paths and
 * contents, so an unchanged folder is the same revision and any saved change is a new one.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { FoundryError, errorMessage } from '../../common/errors.js';
import type { FetchedRevision, RevisionSource } from './revision-source.js';

/** Reads a local folder of YAML files. */
export class DirSource implements RevisionSource {
  constructor(private readonly dir: string) {}

  /** The folder itself and a content hash as its revision ("worktree-<hash>"). */
  async fetch(): Promise<FetchedRevision> {
    try {
      const files = (await yamlFiles(this.dir)).sort();
      const hash = createHash('sha256');
      for (const f of files) {
        hash.update(relative(this.dir, f)).update('\0');
        hash.update(await readFile(f)).update('\0');
      }
      return { revision: `worktree-${hash.digest('hex').slice(0, 12)}`, dir: this.dir };
    } catch (err) {
      throw new FoundryError('GIT_FETCH', `cannot read the infra folder ${this.dir}: ${errorMessage(err)}`, { resource: this.dir, cause: err });
    }
  }
}

async function yamlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await yamlFiles(p)));
    else if (e.isFile() && /\.ya?ml$/.test(e.name)) out.push(p);
  }
  return out;
}

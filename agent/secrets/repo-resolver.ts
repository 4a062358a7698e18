/**
 * The `repo` secret source: the Secret document of the rendered revision names an age file next to it;
 * the agent decrypts it with the node's identity. A missing document or file, a file encrypted to other
 * recipients, a truncated or damaged file: a problem naming the secret and the file, never a throw.
 */
import { lstat, readFile, realpath } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import { SecretFileError } from '../../common/secrets/age-header.js';
import type { Owner, RuntimeSecret } from '../desired.js';
import type { SecretContext, SecretResolver, SecretResult } from './resolver.js';

/** Largest secret file read (an age file of a password or a key is a few hundred bytes). */
const MAX_SECRET_FILE_BYTES = 1024 * 1024;

/** The repo path of a Secret's age file: `spec.file` (default NAME.age) relative to the document's folder. */
export function secretFilePath(docFile: string, name: string, file: string | undefined): string {
  return posix.normalize(posix.join(posix.dirname(docFile), file ?? `${name}.age`));
}

/** Decrypts repo secrets with the node's identity (loaded lazily: a node without secrets never needs it). */
export class RepoSecretResolver implements SecretResolver {
  readonly source = 'repo' as const;

  constructor(private readonly identity: () => Promise<string>) {}

  async resolve(_owner: Owner, ref: RuntimeSecret, ctx: SecretContext): Promise<SecretResult> {
    if (ctx.repo === undefined || ctx.dir === undefined) return { problem: `secret ${ref.name}: the revision was restored from the state dir and its files are not at hand; kept what runs until the repo can be fetched` };
    const doc = ctx.repo.secrets.get(ref.name);
    if (doc === undefined) return { problem: `secret ${ref.name} is not declared: no Secret document named ${ref.name} (create it with foundry secret encrypt ${ref.name})` };
    const rel = secretFilePath(doc.source.file, ref.name, doc.doc.spec.file);
    const where = `${rel} (declared in ${doc.source.file}:${doc.source.line})`;
    let bytes: Buffer;
    try {
      bytes = await readInside(ctx.dir, rel);
    } catch (err) {
      return { problem: `secret ${ref.name}: cannot read ${where}: ${err instanceof Error ? err.message : String(err)}`, file: rel };
    }
    try {
      const { decryptWithIdentities } = await import('../../common/secrets/age.js'); // age-encryption only when a secret is read
      return { value: await decryptWithIdentities(bytes, [await this.identity()]) };
    } catch (err) {
      const why = err instanceof SecretFileError ? err.message : `cannot decrypt: ${err instanceof Error ? err.message : String(err)}`;
      return { problem: `secret ${ref.name}: ${where}: ${why}`, file: rel };
    }
  }
}

/** Reads `rel` under `dir`: a regular file inside it (no link out), at most 1 MiB. */
async function readInside(dir: string, rel: string): Promise<Buffer> {
  if (rel.startsWith('..') || posix.isAbsolute(rel)) throw new Error('the path leaves the repo');
  const full = join(dir, rel);
  const root = await realpath(dir);
  const real = await realpath(full).catch((err: NodeJS.ErrnoException) => {
    throw new Error(err.code === 'ENOENT' ? 'no such file in the revision' : err.message);
  });
  const r = relative(root, real);
  if (r.startsWith('..') || r.startsWith(sep)) throw new Error('the path leaves the repo');
  const st = await lstat(real);
  if (!st.isFile()) throw new Error('not a regular file');
  if (st.size > MAX_SECRET_FILE_BYTES) throw new Error(`the file is larger than ${MAX_SECRET_FILE_BYTES} bytes`);
  return readFile(real);
}

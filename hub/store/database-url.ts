/**
 * Where an operator names the hub's PostgreSQL database: a file holding the URL (--database-url-file,
 * 0600, like the repo credential) or FOUNDRY_HUB_DATABASE_URL; never a command-line argument, which any
 * local user can read in the process list. The URL is checked here, and its password never appears in
 * an error.
 */
import { readFileSync } from 'node:fs';
import { FoundryError } from '../../common/errors.js';
import { isPostgresUrl } from './hub-store.js';
import { redactUrl } from './sql/postgres.js';

/** The database URL from `file` (first non-empty line) or `env`; undefined for the embedded SQLite store. */
export function readDatabaseUrl(file: string | undefined, env: string | undefined): string | undefined {
  let url: string | undefined;
  let where: string;
  if (file !== undefined) {
    where = `--database-url-file ${file}`;
    try {
      url = readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('#'));
    } catch (err) {
      throw new FoundryError('CLI_USAGE', `${where}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (url === undefined) throw new FoundryError('CLI_USAGE', `${where}: the file is empty; expected a postgres:// URL`);
  } else {
    where = 'FOUNDRY_HUB_DATABASE_URL';
    url = env === undefined || env.trim() === '' ? undefined : env.trim();
    if (url === undefined) return undefined;
  }
  if (!isPostgresUrl(url)) throw new FoundryError('CLI_USAGE', `${where}: expected a postgres:// or postgresql:// URL, got ${redactUrl(url)}`);
  try {
    new URL(url);
  } catch {
    throw new FoundryError('CLI_USAGE', `${where}: not a valid URL`);
  }
  return url;
}

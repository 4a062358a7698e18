/**
 * Upgrading the hub's SQLite file: before a hub applies migrations to a database that already holds data,
 * it copies the file with SQLite's online backup (better-sqlite3's `backup`, consistent while other
 * connections read and write) into `<data-dir>/backups/`, so a failed upgrade or a rollback to the older
 * release has the exact file the older release knew. A database newer than this binary is refused first,
 * before anything is written. `foundry hub start` and `foundry hub schema upgrade` call this.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { assertNotDowngrade, migrate, schemaStatus, type SchemaStatus } from './migrate.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';
import { FoundryError } from '../../common/errors.js';

/** How many pre-upgrade backups a data dir keeps (the oldest go first). */
export const KEEP_BACKUPS = 3;

/** What upgradeStore did. */
export interface StoreUpgrade {
  from: number;
  to: number;
  /** Versions applied now, ascending. */
  applied: number[];
  /** The pre-upgrade copy (absent when nothing was pending or the database was new). */
  backup?: string;
}

/** Reads where the database at `path` stands, without creating or changing it (a missing file: version 0, all pending). */
export function readSchemaStatus(path: string, migrations: readonly Migration[] = MIGRATIONS): SchemaStatus {
  if (!existsSync(path)) return schemaStatus(new Database(':memory:'), migrations);
  // Read-write but only read: a read-only connection to a WAL database leaves -wal and -shm files behind
  // (it may not remove them on close); this one removes them when it is the last one, as the hub does.
  const db = openExisting(path, false);
  try {
    return statusOf(db, path, migrations);
  } finally {
    db.close();
  }
}

/**
 * Brings the database at `path` to this binary's schema: refuses a downgrade (naming both versions),
 * backs the file up into `backupDir` when it has data and migrations are pending, then migrates.
 */
export async function upgradeStore(path: string, options: { backupDir?: string; migrations?: readonly Migration[]; now?: () => Date } = {}): Promise<StoreUpgrade> {
  const migrations = options.migrations ?? MIGRATIONS;
  const now = options.now ?? (() => new Date());
  if (!existsSync(path)) return { from: 0, to: Math.max(0, ...migrations.map((m) => m.version)), applied: [] };
  const db = openExisting(path, false);
  try {
    const status = statusOf(db, path, migrations);
    assertNotDowngrade(status, path);
    if (status.pending.length === 0) return { from: status.databaseVersion, to: status.databaseVersion, applied: [] };
    let backup: string | undefined;
    if (status.applied.length > 0) {
      const dir = options.backupDir ?? join(dirname(path), 'backups');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      backup = join(dir, `hub-v${status.databaseVersion}-${now().toISOString().replace(/[:.]/g, '-')}.db`);
      try {
        await db.backup(backup);
        // One self-contained file (the copy inherits WAL mode): restoring it is a plain copy.
        const copy = new Database(backup);
        copy.pragma('journal_mode = DELETE');
        copy.close();
      } catch (err) {
        throw new FoundryError('STORE', `cannot back up the hub database before its upgrade (nothing was migrated): ${err instanceof Error ? err.message : String(err)}`, { resource: backup, cause: err });
      }
      pruneBackups(dir);
    }
    db.pragma('foreign_keys = ON');
    const applied = migrate(db, migrations, now);
    return { from: status.databaseVersion, to: schemaStatus(db, migrations).databaseVersion, applied, backup };
  } finally {
    db.close();
  }
}

function openExisting(path: string, readonly: boolean): Database.Database {
  try {
    const db = new Database(path, { readonly, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    return db;
  } catch (err) {
    throw new FoundryError('STORE', 'cannot open the hub store', { resource: path, cause: err });
  }
}

function statusOf(db: Database.Database, path: string, migrations: readonly Migration[]): SchemaStatus {
  try {
    return schemaStatus(db, migrations);
  } catch (err) {
    throw new FoundryError('STORE', 'cannot open the hub store', { resource: path, cause: err });
  }
}

/** Keeps the newest KEEP_BACKUPS pre-upgrade copies (their names sort by time within one version prefix, so sort by the time part). */
function pruneBackups(dir: string): void {
  const stamp = (f: string): string => f.replace(/^hub-v\d+-/, '');
  const files = readdirSync(dir).filter((f) => /^hub-v\d+-.*\.db$/.test(f)).sort((a, b) => stamp(a).localeCompare(stamp(b)));
  for (const f of files.slice(0, Math.max(0, files.length - KEEP_BACKUPS))) rmSync(join(dir, f), { force: true });
}

/**
 * The SQLite hub file `foundry hub migrate` copies from: opened read-only, only with the hub stopped.
 * A hub that still runs would keep writing (and acknowledging usage) after the copy was taken, so a file
 * that another process holds open is refused; on Linux that is read from /proc/<pid>/fd.
 * A read-only connection to a WAL database creates empty -wal and -shm files it cannot remove; those this
 * opener created are removed again on close (left behind, and owned by root when the copy ran as root,
 * they could stop the hub's next start). The database file itself is never written.
 */
import Database from 'better-sqlite3';
import { existsSync, readdirSync, readlinkSync, realpathSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FoundryError } from '../../common/errors.js';
import type { Sql } from './sql/sql.js';
import { SqliteSql } from './sql/sqlite.js';

/** A hub database opened read-only for copying. */
export interface SqliteSource {
  readonly sql: Sql;
  /** Closes it and removes the empty -wal/-shm files the read-only connection created. */
  close(): Promise<void>;
}

const SIDE_FILES = ['-wal', '-shm'] as const;

/**
 * Opens the hub database at `path` read-only. Throws when the file is missing or another process has it
 * (or its -wal/-shm) open: the hub must be stopped first.
 */
export function openSqliteSource(path: string): SqliteSource {
  if (!existsSync(path)) throw new FoundryError('STORE', `no hub database at ${path}`, { resource: path, retry: 'terminal' });
  const holders = processesHolding(path);
  if (holders.length > 0) {
    throw new FoundryError('STORE', `${path} is open by process ${holders.join(', ')}: stop the hub first (systemctl stop foundry-hub), then run the migration again`, { resource: path, retry: 'wait' });
  }
  const existed = new Set(SIDE_FILES.filter((s) => existsSync(path + s)));
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
  } catch (err) {
    throw new FoundryError('STORE', `cannot open ${path} read-only`, { resource: path, cause: err, retry: 'terminal' });
  }
  const sql = new SqliteSql(db);
  return {
    sql,
    close: async () => {
      await sql.close();
      db.close();
      const wal = statSync(path + '-wal', { throwIfNoEntry: false });
      if (wal !== undefined && wal.size > 0) return;
      for (const s of SIDE_FILES) if (!existed.has(s)) rmSync(path + s, { force: true });
    },
  };
}

/** Pids of other processes holding `path` (or its -wal/-shm) open, as far as /proc lets this process see. */
export function processesHolding(path: string, proc = '/proc'): number[] {
  if (!existsSync(join(proc, 'self', 'fd'))) return [];
  const real = realpathSync(path);
  const targets = new Set([real, ...SIDE_FILES.map((s) => real + s)]);
  const pids: number[] = [];
  for (const entry of readdirSync(proc)) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let fds: string[];
    try {
      fds = readdirSync(join(proc, entry, 'fd'));
    } catch {
      continue; // another user's process, or gone
    }
    if (fds.some((fd) => targets.has(linkOf(join(proc, entry, 'fd', fd))))) pids.push(Number(entry));
  }
  return pids;
}

function linkOf(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

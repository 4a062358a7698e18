/**
 * The store tests run on both backends: SQLite (in memory) and PostgreSQL (a fresh database on the test
 * server, test/support/postgres.ts). `describeBackends` declares a suite once per backend; in CI the
 * PostgreSQL suite must run (a missing server fails it, as test/support/requires.ts does for every component).
 */
import Database from 'better-sqlite3';
import { describe } from 'vitest';
import { SqliteSql } from '../../hub/store/sql/sqlite.js';
import { openPostgres } from '../../hub/store/sql/postgres.js';
import type { Sql } from '../../hub/store/sql/sql.js';
import { migrateSql } from '../../hub/store/migrate.js';
import { MIGRATIONS } from '../../hub/store/migrations/index.js';
import { createTestDatabase, postgresAvailable } from './postgres.js';
import { describeIf } from './requires.js';

/** The store's backends. */
export type StoreBackend = 'sqlite' | 'postgres';

/** Both backends, SQLite first. */
export const STORE_BACKENDS: readonly StoreBackend[] = ['sqlite', 'postgres'];

/** A migrated, empty database of one backend. */
export interface TestSql {
  sql: Sql;
  /** Closes the connection (and drops the PostgreSQL database). */
  close(): Promise<void>;
}

/** Opens a fresh database of `backend` with every migration applied (or none with `migrated: false`). */
export async function openTestSql(backend: StoreBackend, options: { migrated?: boolean } = {}): Promise<TestSql> {
  if (backend === 'sqlite') {
    const db = new Database(':memory:');
    db.pragma('foreign_keys = ON');
    const sql = new SqliteSql(db);
    if (options.migrated !== false) await migrateSql(sql, MIGRATIONS);
    return { sql, close: async () => { await sql.close(); db.close(); } };
  }
  const database = await createTestDatabase();
  const sql = await openPostgres(database.url, { max: 4 });
  try {
    if (options.migrated !== false) await migrateSql(sql, MIGRATIONS);
  } catch (err) {
    await sql.close();
    await database.drop();
    throw err;
  }
  return { sql, close: async () => { await sql.close(); await database.drop(); } };
}

/** Declares `fn`'s suite once per backend, named `name [sqlite]` and `name [postgres]`. */
export function describeBackends(name: string, fn: (backend: StoreBackend) => void): void {
  for (const backend of STORE_BACKENDS) {
    const d = backend === 'postgres' ? describeIf(postgresAvailable(), 'PostgreSQL', 'apt-get install postgresql (or set FOUNDRY_TEST_PG_URL)') : describe;
    d(`${name} [${backend}]`, () => fn(backend));
  }
}

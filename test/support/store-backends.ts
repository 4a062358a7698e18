/**
 * The store tests run on both backends: SQLite (in memory) and PostgreSQL (a fresh database on the test
 * server, test/support/postgres.ts). `describeBackends` declares a suite once per backend; in CI the
 * PostgreSQL suite must run (a missing server fails it, as test/support/requires.ts does for every component).
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubStore } from '../../hub/store/hub-store.js';
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

/** A HubStore on a fresh database of one backend, and more stores on the same database (replicas). */
export interface TestHubStores {
  store: HubStore;
  /** Another HubStore on the same database: a second hub replica (SQLite: a second connection to the file). */
  replica(): Promise<HubStore>;
  /** Closes every store opened here and removes the database. */
  close(): Promise<void>;
}

/** Opens a HubStore on a fresh database of `backend` (an SQLite file in a temp dir, or a new PostgreSQL database). */
export async function openTestHubStore(backend: StoreBackend, options: { now?: () => Date } = {}): Promise<TestHubStores> {
  const opened: HubStore[] = [];
  let target: string;
  let drop: () => Promise<void>;
  if (backend === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'hub-store-'));
    target = join(dir, 'hub.db');
    drop = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const database = await createTestDatabase();
    target = database.url;
    drop = database.drop;
  }
  const open = async (): Promise<HubStore> => {
    const s = await HubStore.open(target, { ...options, poolSize: 4 });
    opened.push(s);
    return s;
  };
  const store = await open();
  return {
    store,
    replica: open,
    close: async () => {
      for (const s of opened) await s.close();
      await drop();
    },
  };
}

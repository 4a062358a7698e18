/** Applies pending migrations to a SQLite database, each in its own transaction, recorded in schema_migrations. */
import type Database from 'better-sqlite3';
import type { Migration } from './migrations/index.js';
import type { Sql, SqlDialect, SqlExecutor } from './sql/sql.js';
import { postgresDdl } from './sql/postgres-ddl.js';
import { FoundryError } from '../../common/errors.js';

/** Where a database stands against the migrations a binary carries. */
export interface SchemaStatus {
  /** Highest version recorded in the database (0: none, e.g. a new file). */
  databaseVersion: number;
  /** Highest version this binary knows. */
  binaryVersion: number;
  /** Versions recorded in the database, ascending, with their names and times. */
  applied: Array<{ version: number; name: string; appliedAt: string }>;
  /** Versions this binary would apply, ascending. */
  pending: Array<{ version: number; name: string }>;
  /** Recorded versions this binary does not know, ascending (a newer binary ran on this database). */
  unknown: number[];
}

/** Reads where `db` stands against `migrations` without writing anything (not even the bookkeeping table). */
export function schemaStatus(db: Database.Database, migrations: readonly Migration[]): SchemaStatus {
  const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get() !== undefined;
  const rows = hasTable ? (db.prepare('SELECT version, name, applied_at AS appliedAt FROM schema_migrations ORDER BY version').all() as SchemaStatus['applied']) : [];
  return statusOf(rows, migrations);
}

/** Where a database with the recorded `rows` stands against `migrations`. */
function statusOf(rows: SchemaStatus['applied'], migrations: readonly Migration[]): SchemaStatus {
  const done = new Set(rows.map((r) => r.version));
  const known = new Set(migrations.map((m) => m.version));
  return {
    databaseVersion: Math.max(0, ...done),
    binaryVersion: Math.max(0, ...known),
    applied: rows,
    pending: [...migrations].filter((m) => !done.has(m.version)).sort((a, b) => a.version - b.version).map(({ version, name }) => ({ version, name })),
    unknown: rows.map((r) => r.version).filter((v) => !known.has(v)),
  };
}

/**
 * Throws, naming both versions, when the database was migrated by a newer binary (a downgrade): its
 * highest recorded version is above the highest this binary knows. Checked before anything is written.
 */
export function assertNotDowngrade(status: SchemaStatus, where = 'the hub database'): void {
  if (status.databaseVersion > status.binaryVersion) {
    throw new FoundryError(
      'STORE',
      `${where} has schema version ${status.databaseVersion} but this hub knows versions up to ${status.binaryVersion}: refusing a downgrade (run the newer hub release again, or restore the backup taken before the upgrade; docs/hub-install.md)`,
      { retry: 'terminal' },
    );
  }
}

/**
 * Applies every migration of `migrations` not yet recorded in `db`, in version order, and returns the
 * versions applied now. Pending is judged per version, not by the highest one recorded: a migration that
 * landed on main with a lower number than one a store already has (parallel branches) still runs.
 * Refuses a db newer than the code before writing anything.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[], now: () => Date = () => new Date()): number[] {
  const status = schemaStatus(db, migrations);
  assertNotDowngrade(status);
  if (status.pending.length === 0) return [];
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const pending = new Set(status.pending.map((p) => p.version));
  const applied: number[] = [];
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (!pending.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, now().toISOString());
    })();
    applied.push(m.version);
  }
  return applied;
}

/** The text of `m` for `dialect`. */
export function migrationText(m: Migration, dialect: SqlDialect): string {
  if (dialect === 'sqlite') return m.sql;
  return m.postgres ?? postgresDdl(m.sql, `migration ${m.version} (${m.name})`);
}

/** schemaStatus over the Sql interface, for either dialect; writes nothing. */
export async function schemaStatusSql(sql: SqlExecutor, migrations: readonly Migration[]): Promise<SchemaStatus> {
  const exists = sql.dialect === 'sqlite'
    ? (await sql.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")) !== undefined
    : typeof (await sql.get<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t"))?.t === 'string';
  const rows = exists ? await sql.all<SchemaStatus['applied'][number]>('SELECT version, name, applied_at AS "appliedAt" FROM schema_migrations ORDER BY version') : [];
  return statusOf(rows, migrations);
}

/** Key of the PostgreSQL advisory lock under which replicas migrate one at a time. */
const MIGRATE_LOCK = 7_316_001;

/**
 * migrate over the Sql interface, for either dialect: each pending migration in its own transaction with
 * its schema_migrations row. On PostgreSQL every transaction first takes an advisory lock and re-reads
 * what is applied, so hub replicas started together apply each migration once.
 */
export async function migrateSql(sql: Sql, migrations: readonly Migration[], now: () => Date = () => new Date()): Promise<number[]> {
  const status = await schemaStatusSql(sql, migrations);
  assertNotDowngrade(status);
  if (status.pending.length === 0) return [];
  await sql.script('CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const applied: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (!status.pending.some((p) => p.version === m.version)) continue;
    const text = migrationText(m, sql.dialect);
    const did = await sql.tx(async (tx) => {
      if (tx.dialect === 'postgres') {
        await tx.get('SELECT pg_advisory_xact_lock(?) AS locked', [MIGRATE_LOCK]);
        if ((await tx.get('SELECT 1 AS x FROM schema_migrations WHERE version = ?', [m.version])) !== undefined) return false;
      }
      await tx.script(text);
      await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, now().toISOString()]);
      return true;
    });
    if (did) applied.push(m.version);
  }
  return applied;
}

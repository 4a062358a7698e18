/**
 * `foundry hub schema status|upgrade`: where the hub database stands against this release's migrations
 * (applied, pending, a downgrade refused), and the upgrade `hub start` also does (backup, then migrate),
 * for an operator who wants it as its own step. Run with the hub stopped for `upgrade`; `status` only reads.
 * With FOUNDRY_HUB_DATABASE_URL both work on that PostgreSQL database (no backup is taken there: use
 * PostgreSQL's own tools first, docs/hub-postgres.md).
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import type { SchemaStatus } from '../hub/store/migrate.js';
import { DEFAULT_DATA_DIR } from './hub-data.js';

/** Registers `hub schema` under the hub command. */
export function registerHubSchema(hub: Command): void {
  const schema = hub.command('schema').description('the hub database\'s schema: migrations applied and pending, upgrade with a backup first');
  schema
    .command('status')
    .description('print the database\'s schema version, this release\'s, and the migrations applied and pending (changes nothing); exit 1 when the database is newer than this release')
    .option('--data-dir <dir>', 'the hub data dir', DEFAULT_DATA_DIR)
    .option('--json', 'print JSON')
    .action(async (o: { dataDir: string; json?: boolean }) => {
      const { readSchemaStatus } = await import('../hub/store/upgrade.js');
      const { assertNotDowngrade } = await import('../hub/store/migrate.js');
      const pg = await postgresTarget();
      const path = pg?.where ?? join(o.dataDir, 'hub.db');
      const s = pg === undefined ? readSchemaStatus(path) : await pg.status();
      if (o.json === true) process.stdout.write(`${JSON.stringify({ database: path, ...s }, null, 2)}\n`);
      else {
        process.stdout.write(`database: ${path}\nschema version: ${s.databaseVersion} (this release knows up to ${s.binaryVersion})\n`);
        process.stdout.write(`applied: ${s.applied.length === 0 ? 'none' : s.applied.map((a) => a.version).join(' ')}\n`);
        process.stdout.write(`pending: ${s.pending.length === 0 ? 'none' : s.pending.map((p) => `${p.version}-${p.name}`).join(' ')}\n`);
        if (s.unknown.length > 0) process.stdout.write(`unknown to this release: ${s.unknown.join(' ')}\n`);
      }
      assertNotDowngrade(s, path);
    });
  schema
    .command('upgrade')
    .description('back the database up (SQLite online backup into DATA-DIR/backups) and apply the pending migrations; refuses a database newer than this release')
    .option('--data-dir <dir>', 'the hub data dir', DEFAULT_DATA_DIR)
    .action(async (o: { dataDir: string }) => {
      const { upgradeStore } = await import('../hub/store/upgrade.js');
      const pg = await postgresTarget();
      const path = pg?.where ?? join(o.dataDir, 'hub.db');
      // PostgreSQL: back it up with its own tools first (pg_dump, base backups; docs/hub-postgres.md)
      const up = pg === undefined ? await upgradeStore(path) : await pg.upgrade();
      if (up.applied.length === 0) process.stdout.write(`${path}: schema version ${up.from}, nothing to apply\n`);
      else process.stdout.write(`${path}: upgraded from schema version ${up.from} to ${up.to} (applied ${up.applied.join(' ')})${up.backup === undefined ? '' : `; backup of the previous file: ${up.backup}`}\n`);
    });
}

/** The hub's PostgreSQL database when FOUNDRY_HUB_DATABASE_URL names one: its status and upgrade, each on a connection of its own. */
async function postgresTarget(): Promise<{ where: string; status(): Promise<SchemaStatus>; upgrade(): Promise<{ from: number; to: number; applied: number[]; backup?: string }> } | undefined> {
  const { readDatabaseUrl } = await import('../hub/store/database-url.js');
  const url = readDatabaseUrl(undefined, process.env.FOUNDRY_HUB_DATABASE_URL);
  if (url === undefined) return undefined;
  const [{ openPostgres, redactUrl }, { schemaStatusSql, migrateSql }, { MIGRATIONS }] = await Promise.all([import('../hub/store/sql/postgres.js'), import('../hub/store/migrate.js'), import('../hub/store/migrations/index.js')]);
  const withSql = async <T>(fn: (sql: Awaited<ReturnType<typeof openPostgres>>) => Promise<T>): Promise<T> => {
    const sql = await openPostgres(url, { max: 1 });
    try {
      return await fn(sql);
    } finally {
      await sql.close();
    }
  };
  return {
    where: redactUrl(url),
    status: () => withSql((sql) => schemaStatusSql(sql, MIGRATIONS)),
    upgrade: () =>
      withSql(async (sql) => {
        const from = (await schemaStatusSql(sql, MIGRATIONS)).databaseVersion;
        const applied = await migrateSql(sql, MIGRATIONS);
        return { from, to: (await schemaStatusSql(sql, MIGRATIONS)).databaseVersion, applied };
      }),
  };
}

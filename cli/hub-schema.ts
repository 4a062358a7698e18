/**
 * `foundry hub schema status|upgrade`: where the hub database stands against this release's migrations
 * (applied, pending, a downgrade refused), and the upgrade `hub start` also does (backup, then migrate),
 * for an operator who wants it as its own step. Run with the hub stopped for `upgrade`; `status` only reads.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
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
      const path = join(o.dataDir, 'hub.db');
      const s = readSchemaStatus(path);
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
      const path = join(o.dataDir, 'hub.db');
      const up = await upgradeStore(path);
      if (up.applied.length === 0) process.stdout.write(`${path}: schema version ${up.from}, nothing to apply\n`);
      else process.stdout.write(`${path}: upgraded from schema version ${up.from} to ${up.to} (applied ${up.applied.join(' ')})${up.backup === undefined ? '' : `; backup of the previous file: ${up.backup}`}\n`);
    });
}

/** Applies pending migrations to a SQLite database, each in its own transaction, recorded in schema_migrations. */
import type Database from 'better-sqlite3';
import type { Migration } from './migrations/index.js';
import { FoundryError } from '../../common/errors.js';

/** Brings `db` up to the last of `migrations`; returns the versions applied now. Refuses a db newer than the code. */
export function migrate(db: Database.Database, migrations: readonly Migration[], now: () => Date = () => new Date()): number[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const current = (db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0;
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new FoundryError('STORE', `store schema version ${current} is newer than this hub supports (${latest}): upgrade the hub`, { retry: 'terminal' });
  }
  const applied: number[] = [];
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, now().toISOString());
    })();
    applied.push(m.version);
  }
  return applied;
}

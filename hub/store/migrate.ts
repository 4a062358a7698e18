/** Applies pending migrations to a SQLite database, each in its own transaction, recorded in schema_migrations. */
import type Database from 'better-sqlite3';
import type { Migration } from './migrations/index.js';
import { FoundryError } from '../../common/errors.js';

/**
 * Applies every migration of `migrations` not yet recorded in `db`, in version order, and returns the
 * versions applied now. Pending is judged per version, not by the highest one recorded: a migration that
 * landed on main with a lower number than one a store already has (parallel branches) still runs.
 * Refuses a db newer than the code.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[], now: () => Date = () => new Date()): number[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const done = new Set((db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version));
  const current = Math.max(0, ...done);
  const latest = Math.max(0, ...migrations.map((m) => m.version));
  if (current > latest) {
    throw new FoundryError('STORE', `store schema version ${current} is newer than this hub supports (${latest}): upgrade the hub`, { retry: 'terminal' });
  }
  const applied: number[] = [];
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, now().toISOString());
    })();
    applied.push(m.version);
  }
  return applied;
}

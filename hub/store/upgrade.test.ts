import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEEP_BACKUPS, readSchemaStatus, upgradeStore } from './upgrade.js';
import { HubStore } from './hub-store.js';
import { MIGRATIONS } from './migrations/index.js';

const m = (version: number, table: string): { version: number; name: string; sql: string } => ({ version, name: table, sql: `CREATE TABLE ${table} (id INTEGER)` });
const latest = Math.max(...MIGRATIONS.map((x) => x.version));

describe('upgradeStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'foundry-upgrade-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('backs an existing database up with its data, then migrates; the backup is the old schema', async () => {
    const path = join(dir, 'hub.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.close();
    // A database an older release made: version 1 with a row.
    expect(await upgradeStore(path, { migrations: [m(1, 'a')] })).toEqual({ from: 0, to: 1, applied: [1], backup: undefined });
    const w = new Database(path);
    w.prepare('INSERT INTO a (id) VALUES (42)').run();
    w.close();
    const up = await upgradeStore(path, { migrations: [m(1, 'a'), m(2, 'b')], now: () => new Date('2026-12-08T01:02:03.004Z') });
    expect(up).toEqual({ from: 1, to: 2, applied: [2], backup: join(dir, 'backups', 'hub-v1-2026-12-08T01-02-03-004Z.db') });
    const backup = new Database(up.backup!, { readonly: true });
    expect(backup.prepare('SELECT id FROM a').pluck().all()).toEqual([42]);
    expect(backup.prepare('SELECT version FROM schema_migrations').pluck().all()).toEqual([1]);
    backup.close();
    expect(readSchemaStatus(path, [m(1, 'a'), m(2, 'b')])).toMatchObject({ databaseVersion: 2, pending: [] });
    // Nothing pending: no new backup.
    expect(await upgradeStore(path, { migrations: [m(1, 'a'), m(2, 'b')] })).toEqual({ from: 2, to: 2, applied: [] });
    expect(readdirSync(join(dir, 'backups'))).toEqual(['hub-v1-2026-12-08T01-02-03-004Z.db']);
  });

  it('keeps the newest backups only', async () => {
    const path = join(dir, 'hub.db');
    const all = [m(1, 'a'), m(2, 'b'), m(3, 'c'), m(4, 'd'), m(5, 'e')];
    await upgradeStore(path, { migrations: [] });
    new Database(path).close();
    for (let i = 1; i <= all.length; i++) await upgradeStore(path, { migrations: all.slice(0, i), now: () => new Date(Date.UTC(2026, 11, 8, 0, 0, i)) });
    expect(readdirSync(join(dir, 'backups')).sort()).toEqual(['hub-v2-2026-12-08T00-00-03-000Z.db', 'hub-v3-2026-12-08T00-00-04-000Z.db', 'hub-v4-2026-12-08T00-00-05-000Z.db']);
    expect(KEEP_BACKUPS).toBe(3);
  });

  it('refuses a database newer than this release, naming both versions, and leaves the file as it was', async () => {
    const path = join(dir, 'hub.db');
    await new HubStore(path).close();
    const w = new Database(path);
    w.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(latest + 100, 'from-the-future', '2027-01-01T00:00:00Z');
    w.pragma('wal_checkpoint(TRUNCATE)');
    w.close();
    const before = readFileSync(path);
    const message = `${path} has schema version ${latest + 100} but this hub knows versions up to ${latest}: refusing a downgrade`;
    await expect(upgradeStore(path)).rejects.toThrow(message);
    expect(() => new HubStore(path)).toThrow(message);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(existsSync(join(dir, 'backups'))).toBe(false);
    expect(readSchemaStatus(path)).toMatchObject({ databaseVersion: latest + 100, binaryVersion: latest, unknown: [latest + 100], pending: [] });
  });

  it('a missing file is version 0 with everything pending, and stays missing; a file that is no database is named', async () => {
    const path = join(dir, 'hub.db');
    expect(readSchemaStatus(path, [m(1, 'a')])).toMatchObject({ databaseVersion: 0, pending: [{ version: 1, name: 'a' }] });
    expect(existsSync(path)).toBe(false);
    writeFileSync(path, 'not a database, just text that is long enough to have a header of sorts...............');
    await expect(upgradeStore(path)).rejects.toThrow('cannot open the hub store');
    expect(() => new HubStore(path)).toThrow('cannot open the hub store');
  });
});

import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { migrate } from './migrate.js';

const m = (version: number, table: string): { version: number; name: string; sql: string } => ({ version, name: table, sql: `CREATE TABLE ${table} (id INTEGER)` });
const tables = (db: Database.Database): string[] => db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'schema_migrations' ORDER BY name").pluck().all() as string[];

describe('migrate', () => {
  it('applies each pending version once, in order', () => {
    const db = new Database(':memory:');
    expect(migrate(db, [m(1, 'a'), m(20, 'c'), m(10, 'b')])).toEqual([1, 10, 20]);
    expect(migrate(db, [m(1, 'a'), m(10, 'b'), m(20, 'c')])).toEqual([]);
    expect(tables(db)).toEqual(['a', 'b', 'c']);
  });

  it('still applies a lower version a store never had (a migration merged after a higher one ran)', () => {
    const db = new Database(':memory:');
    migrate(db, [m(1, 'a'), m(31, 'd')]);
    expect(migrate(db, [m(1, 'a'), m(10, 'b'), m(20, 'c'), m(31, 'd')])).toEqual([10, 20]);
    expect(tables(db)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('rolls back a failing migration and refuses a store newer than the code', () => {
    const db = new Database(':memory:');
    expect(() => migrate(db, [m(1, 'a'), { version: 2, name: 'bad', sql: 'CREATE TABLE x (id INTEGER); NOT SQL' }])).toThrow();
    expect(tables(db)).toEqual(['a']);
    expect(migrate(db, [m(1, 'a'), m(2, 'x')])).toEqual([2]);
    expect(() => migrate(db, [m(1, 'a')])).toThrow('store schema version 2 is newer than this hub supports (1): upgrade the hub');
  });
});

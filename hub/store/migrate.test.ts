import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { migrate, schemaStatus } from './migrate.js';

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
    expect(() => migrate(db, [m(1, 'a')])).toThrow('the hub database has schema version 2 but this hub knows versions up to 1: refusing a downgrade');
  });

  it('refuses a downgrade before writing anything: a database without schema_migrations gets none, a newer one is left byte for byte', () => {
    const db = new Database(':memory:');
    expect(schemaStatus(db, [m(1, 'a')])).toEqual({ databaseVersion: 0, binaryVersion: 1, applied: [], pending: [{ version: 1, name: 'a' }], unknown: [] });
    expect(tables(db)).toEqual([]);
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'schema_migrations'").pluck().get()).toBe(0);
    migrate(db, [m(1, 'a'), m(5, 'b')], () => new Date('2026-12-08T00:00:00Z'));
    const before = db.serialize();
    expect(() => migrate(db, [m(1, 'a'), m(3, 'c')])).toThrow('has schema version 5 but this hub knows versions up to 3');
    expect(db.serialize().equals(before)).toBe(true);
    expect(schemaStatus(db, [m(1, 'a'), m(3, 'c')])).toEqual({
      databaseVersion: 5,
      binaryVersion: 3,
      applied: [{ version: 1, name: 'a', appliedAt: '2026-12-08T00:00:00.000Z' }, { version: 5, name: 'b', appliedAt: '2026-12-08T00:00:00.000Z' }],
      pending: [{ version: 3, name: 'c' }],
      unknown: [5],
    });
  });
});

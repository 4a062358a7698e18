/** The Sql interface behaves the same on both backends: placeholders, integers, transactions, migrations. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBackends, openTestSql, type TestSql } from '../support/store-backends.js';
import { MIGRATIONS } from '../../hub/store/migrations/index.js';
import { migrateSql, schemaStatusSql } from '../../hub/store/migrate.js';
import { jsonText, numberedPlaceholders } from '../../hub/store/sql/sql.js';

it('numbers placeholders outside strings and comments', () => {
  expect(numberedPlaceholders("SELECT ?, '?', \"a?\" -- ?\n, ?")).toBe("SELECT $1, '?', \"a?\" -- ?\n, $2");
});

describeBackends('sql', (backend) => {
  let db: TestSql;
  beforeAll(async () => (db = await openTestSql(backend)));
  afterAll(async () => db?.close());

  it('applies every migration once, and a second run applies none', async () => {
    const status = await schemaStatusSql(db.sql, MIGRATIONS);
    expect(status.pending).toEqual([]);
    expect(status.databaseVersion).toBe(MIGRATIONS.at(-1)!.version);
    expect(await migrateSql(db.sql, MIGRATIONS)).toEqual([]);
  });

  it('returns integers as numbers, counts and sums included', async () => {
    await db.sql.run('INSERT INTO usage_records (node, seq, payload, received_at) VALUES (?, ?, ?, ?)', ['n1', 2 ** 40, '{"tenant":"acme"}', '2026-01-01T00:00:00.000Z']);
    const row = await db.sql.get<{ seq: number; c: number; s: number }>('SELECT seq, (SELECT COUNT(*) FROM usage_records) AS c, (SELECT SUM(seq) FROM usage_records) AS s FROM usage_records');
    expect(row).toEqual({ seq: 2 ** 40, c: 1, s: 2 ** 40 });
    const t = await db.sql.get<{ t: string }>(`SELECT ${jsonText(backend, 'payload', 'tenant')} AS t FROM usage_records`);
    expect(t?.t).toBe('acme');
  });

  it('commits a transaction whole or not at all', async () => {
    await expect(
      db.sql.tx(async (tx) => {
        await tx.run('INSERT INTO usage_records (node, seq, payload, received_at) VALUES (?, ?, ?, ?)', ['n2', 1, '{}', 'x']);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await db.sql.get('SELECT 1 AS x FROM usage_records WHERE node = ?', ['n2'])).toBeUndefined();
    const n = await db.sql.tx(async (tx) => (await tx.run('INSERT INTO usage_records (node, seq, payload, received_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', ['n2', 1, '{}', 'x'])).changes, { durability: 'relaxed' });
    expect(n).toBe(1);
    expect((await db.sql.run('INSERT INTO usage_records (node, seq, payload, received_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', ['n2', 1, '{}', 'x'])).changes).toBe(0);
  });

  it('sorts text byte-wise on both', async () => {
    for (const name of ['b', 'B', 'a', '_x']) await db.sql.run('INSERT INTO nodes (name, created_at) VALUES (?, ?)', [name, 'x']);
    expect((await db.sql.all<{ name: string }>('SELECT name FROM nodes ORDER BY name')).map((r) => r.name)).toEqual(['B', '_x', 'a', 'b']);
  });

  it('keeps statements issued during a transaction out of it', async () => {
    let outside: Promise<unknown> | undefined;
    await expect(
      db.sql.tx(async (tx) => {
        await tx.run('INSERT INTO nodes (name, created_at) VALUES (?, ?)', ['inside', 'x']);
        outside = db.sql.run('INSERT INTO nodes (name, created_at) VALUES (?, ?)', ['outside', 'x']);
        await new Promise((r) => setTimeout(r, 20));
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await outside;
    const names = (await db.sql.all<{ name: string }>("SELECT name FROM nodes WHERE name IN ('inside', 'outside')")).map((r) => r.name);
    expect(names).toEqual(['outside']);
  });
});

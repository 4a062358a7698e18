/** copyStore: a populated SQLite hub file copied into a fresh PostgreSQL database, verified, and refused where it must be. */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { copyStore, verifyCopy } from '../../hub/store/copy-store.js';
import { openSqliteSource, processesHolding, type SqliteSource } from '../../hub/store/copy-source.js';
import { parentsFirst } from '../../hub/store/copy-schema.js';
import { MIGRATIONS } from '../../hub/store/migrations/index.js';
import { openPostgres } from '../../hub/store/sql/postgres.js';
import { openTestSql, type TestSql } from '../support/store-backends.js';
import { postgresAvailable } from '../support/postgres.js';
import { describeIf } from '../support/requires.js';
import { tempDir } from '../hub/support.js';
import { writePopulatedHub } from '../support/populated-hub.js';

const dir = tempDir('foundry-copy-store-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

it('orders tables parents first, by name otherwise', () => {
  const t = (name: string): { name: string } => ({ name });
  const parents = new Map([['recovery_codes', ['users']], ['app_sessions', ['sessions']], ['sessions', ['users']], ['users', ['users']]]);
  expect(parentsFirst([t('app_sessions'), t('recovery_codes'), t('sessions'), t('users'), t('audit_log')], parents).map((x) => x.name)).toEqual(['audit_log', 'users', 'recovery_codes', 'sessions', 'app_sessions']);
});

describeIf(postgresAvailable(), 'PostgreSQL', 'apt-get install postgresql (or set FOUNDRY_TEST_PG_URL)')('copyStore (SQLite hub → PostgreSQL)', () => {
  const hub = join(dir, 'hub.db');
  let source: SqliteSource | undefined;
  let target: TestSql | undefined;
  beforeAll(async () => {
    await writePopulatedHub(hub, { extraUsage: 1_500 });
  });
  afterEach(async () => {
    await source?.close();
    await target?.close();
    source = undefined;
    target = undefined;
  });

  it('copies every table: counts and content checksums equal, usage_late as it was, ids continue, the source file untouched', async () => {
    const before = sha(hub);
    source = openSqliteSource(hub);
    target = await openTestSql('postgres', { migrated: false });
    const progress: string[] = [];
    const report = await copyStore(source.sql, target.sql, { onTable: (t) => progress.push(t) });
    expect(report.schemaVersion).toBe(MIGRATIONS.at(-1)!.version);
    expect(report.verification.ok).toBe(true);
    const rows = Object.fromEntries(report.copied.map((c) => [c.table, c.rows]));
    // every table of the schema has rows in the fixture, so each one's copy is proven
    expect(Object.entries(rows).filter(([, n]) => n === 0), 'a table without rows in the fixture: give it some in test/support/populated-hub.ts').toEqual([]);
    expect(rows).toMatchObject({ usage_records: 1_504, usage_late: 2, admin_tokens: 2, nodes: 4, users: 2, billing_invoices: 2 });
    expect(progress).toEqual(report.copied.map((c) => c.table));
    expect(progress.indexOf('users')).toBeLessThan(progress.indexOf('recovery_codes'));
    expect(progress.indexOf('sessions')).toBeLessThan(progress.indexOf('app_sessions'));
    for (const t of report.verification.tables) {
      expect(t.ok, t.table).toBe(true);
      expect(t.target).toEqual(t.source);
    }
    expect(report.verification.tables.map((t) => t.table).sort()).toEqual(Object.keys(rows).sort());
    expect(report.triggers).toEqual(['usage_records.usage_records_late']);
    // invoice totals per tenant and month, the same on both sides
    const totals = Object.fromEntries(report.verification.totals.map((t) => [`${t.tenant} ${t.month}`, t.target]));
    expect(totals).toEqual({
      'acme 2026-01': { records: 3, seconds: 5 * 3600, invoice: '12.34 EUR' },
      'globex 2026-01': { records: 0, seconds: 0, invoice: '0.00 EUR' },
      'globex 2026-02': { records: 1, seconds: 1800 },
      'bulk 2026-02': { records: 1_500, seconds: 1_500 * 59 },
    });
    expect(report.verification.totals.every((t) => t.ok)).toBe(true);

    // usage_late: exactly the rows SQLite's trigger decided at arrival, not re-decided
    expect(await target.sql.all('SELECT usage_id, used_month, invoice_month FROM usage_late ORDER BY usage_id, used_month')).toEqual([
      { usage_id: 2, used_month: '2026-01', invoice_month: '2026-02' },
      { usage_id: 3, used_month: '2026-01', invoice_month: '2026-02' },
    ]);
    // identities continue after the copy (admin_tokens: after the deleted id 3, as SQLite's AUTOINCREMENT would)
    expect(report.identities).toContainEqual({ table: 'usage_records', column: 'id', next: 1_505 });
    expect(report.identities).toContainEqual({ table: 'admin_tokens', column: 'id', next: 4 });
    const ins = await target.sql.get<{ id: number }>("INSERT INTO admin_tokens (label, token_hash, created_at) VALUES ('new', 'tn', 'x') RETURNING id");
    expect(ins?.id).toBe(4);
    // the trigger is on again: a new record in the closed month gets its late row in PostgreSQL
    const late = await target.sql.get<{ id: number }>(
      'INSERT INTO usage_records (node, seq, payload, received_at) VALUES (?, ?, ?, ?) RETURNING id',
      ['gpu-a', 5000, JSON.stringify({ tenant: 'acme', from: Date.parse('2026-01-20T00:00:00Z'), to: Date.parse('2026-01-20T01:00:00Z') }), '2026-03-01T00:00:00.000Z'],
    );
    expect(late?.id).toBe(1_505);
    expect(await target.sql.all('SELECT used_month, invoice_month FROM usage_late WHERE usage_id = ?', [1_505])).toEqual([{ used_month: '2026-01', invoice_month: '2026-02' }]);

    await source.close();
    expect(sha(hub)).toBe(before);
    expect(existsSync(`${hub}-wal`) || existsSync(`${hub}-shm`)).toBe(false);
  });

  it('pages tables in key order across small batches (text keys sorted byte-wise on both sides)', async () => {
    source = openSqliteSource(hub);
    target = await openTestSql('postgres', { migrated: false });
    const report = await copyStore(source.sql, target.sql, { batchRows: 3 });
    expect(report.verification.ok).toBe(true);
    expect((await target.sql.all<{ name: string }>('SELECT name FROM nodes ORDER BY name')).map((r) => r.name)).toEqual(['Gpu-a', '_edge', 'gpu-a', 'gpu-b']);
  });

  it('a checksum tells what a count cannot: one changed value in the target is found', async () => {
    source = openSqliteSource(hub);
    target = await openTestSql('postgres', { migrated: false });
    await copyStore(source.sql, target.sql);
    await target.sql.run("UPDATE usage_records SET payload = replace(payload, '87.5', '87.6') WHERE id = 700");
    const v = await verifyCopy(source.sql, target.sql);
    expect(v.ok).toBe(false);
    const bad = v.tables.filter((t) => !t.ok);
    expect(bad.map((t) => t.table)).toEqual(['usage_records']);
    expect(bad[0]!.source.rows).toBe(bad[0]!.target.rows);
    expect(bad[0]!.source.sha256).not.toBe(bad[0]!.target.sha256);
  });

  it('a second run refuses the non-empty target, naming a table, and changes nothing there', async () => {
    source = openSqliteSource(hub);
    target = await openTestSql('postgres', { migrated: false });
    await copyStore(source.sql, target.sql);
    await expect(copyStore(source.sql, target.sql)).rejects.toThrow(/the PostgreSQL database is not empty: table \w+ has rows/);
    expect((await target.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM usage_records'))?.n).toBe(1_504);
  });

  it('refuses a source older or newer than this release, before writing anything to the target', async () => {
    const old = join(dir, 'old.db');
    await writePopulatedHub(old, { migrations: MIGRATIONS.slice(0, -1) });
    source = openSqliteSource(old);
    target = await openTestSql('postgres', { migrated: false });
    await expect(copyStore(source.sql, target.sql)).rejects.toThrow(`the SQLite hub is at schema version ${MIGRATIONS.at(-2)!.version} and misses ${MIGRATIONS.at(-1)!.version} of this release`);
    await expect(copyStore(source.sql, target.sql)).rejects.toThrow('foundry hub schema upgrade');
    expect(await target.sql.get("SELECT to_regclass('schema_migrations')::text AS t")).toEqual({ t: null });
    await source.close();

    const newer = join(dir, 'newer.db');
    await writePopulatedHub(newer, { migrations: [...MIGRATIONS, { version: 9_999, name: 'future', sql: 'CREATE TABLE future (x INTEGER);' }] });
    source = openSqliteSource(newer);
    await expect(copyStore(source.sql, target.sql)).rejects.toThrow('the SQLite hub has schema version 9999 but this hub knows versions up to');
  });

  it('a column only one side has is an error naming table and column; a row PostgreSQL refuses rolls the whole copy back', async () => {
    const extra = join(dir, 'extra.db');
    await writePopulatedHub(extra);
    const db = new Database(extra);
    db.exec('ALTER TABLE nodes ADD COLUMN rack TEXT');
    db.close();
    source = openSqliteSource(extra);
    target = await openTestSql('postgres', { migrated: false });
    await expect(copyStore(source.sql, target.sql)).rejects.toThrow('column nodes.rack of the SQLite hub has no counterpart in the PostgreSQL database');
    await source.close();

    const bad = join(dir, 'bad.db');
    await writePopulatedHub(bad);
    const db2 = new Database(bad);
    // SQLite keeps text in an INTEGER column; PostgreSQL's BIGINT refuses it
    db2.exec("UPDATE telemetry_rollups SET samples = 'many'");
    db2.close();
    source = openSqliteSource(bad);
    await expect(copyStore(source.sql, target.sql)).rejects.toThrow(/copying table telemetry_rollups failed after 0 rows \(nothing was committed\)/);
    for (const t of ['nodes', 'usage_records', 'users', 'admin_tokens']) expect((await target.sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}`))?.n, t).toBe(0);
  });

  it('refuses a hub file another process holds open (the hub must be stopped)', async () => {
    const fd = openSync(hub, 'r');
    const child = spawn('sleep', ['30'], { stdio: [fd, 'ignore', 'ignore'] });
    closeSync(fd);
    try {
      await new Promise((r) => child.once('spawn', r));
      expect(processesHolding(hub)).toContain(child.pid);
      expect(() => openSqliteSource(hub)).toThrow(`is open by process ${child.pid}: stop the hub first`);
    } finally {
      child.kill();
    }
  });

  it('a broken URL gives a clear error without the password', async () => {
    const err = await openPostgres('postgres://foundry:s3cr3t-pw@127.0.0.1:1/hub').catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe('cannot reach PostgreSQL at postgres://foundry:***@127.0.0.1:1/hub');
    expect(JSON.stringify(err)).not.toContain('s3cr3t-pw');
  });
});

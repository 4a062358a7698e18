/**
 * `foundry hub migrate`'s engine: copies an SQLite hub into an empty PostgreSQL database, then proves it.
 *
 * 1. Versions: the source must be at exactly this binary's schema (an older one is upgraded first with
 *    `foundry hub schema upgrade`, a newer one is refused); the target is migrated here, then must match.
 * 2. Tables: planned from both schemas (copy-schema.ts): a missing table or column is an error naming it.
 * 3. Copy: in ONE PostgreSQL transaction (all or nothing), with every target table locked and checked
 *    empty first, parents before children, 1000 rows per INSERT. User triggers are disabled meanwhile:
 *    usage_records_late (migration 35) decided usage_late's rows when each record arrived, and those rows
 *    are copied as they are; firing it again against the closed months of today would decide differently.
 *    Identity columns continue after the highest id copied (or SQLite's AUTOINCREMENT high-water mark).
 * 4. Verify, after the commit: per table the row count and a sha256 of every row's content in key order,
 *    and per tenant and month the usage seconds and frozen invoice totals (copy-totals.ts).
 */
import type { Sql, SqlExecutor, SqlParam } from './sql/sql.js';
import { assertNotDowngrade, migrateSql, schemaStatusSql } from './migrate.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';
import { FoundryError, errorMessage } from '../../common/errors.js';
import { planTables, quoteIdent, type TablePlan } from './copy-schema.js';
import { digestTable, readPages, type TableDigest } from './copy-read.js';
import { addInvoice, addUsage, compareTotals, type Totals, type TotalsCheck } from './copy-totals.js';

/** Options of copyStore. */
export interface CopyOptions {
  migrations?: readonly Migration[];
  /** Rows per INSERT (default 1000; fewer for wide tables: PostgreSQL takes at most 65,535 parameters). */
  batchRows?: number;
  now?: () => Date;
  /** Called after each table is copied (progress for the CLI). */
  onTable?: (table: string, rows: number) => void;
}

/** A table on both sides after the copy. */
export interface TableCheck {
  table: string;
  source: TableDigest;
  target: TableDigest;
  ok: boolean;
}

/** What the verification found. */
export interface Verification {
  ok: boolean;
  tables: TableCheck[];
  totals: TotalsCheck[];
}

/** What copyStore did and found. */
export interface CopyReport {
  schemaVersion: number;
  /** Rows copied per table, in copy order. */
  copied: Array<{ table: string; rows: number }>;
  /** User triggers held off during the copy, as table.trigger. */
  triggers: string[];
  /** Identity columns and the id the next inserted row gets. */
  identities: Array<{ table: string; column: string; next: number }>;
  verification: Verification;
}

const MAX_SAFE = 9_007_199_254_740_991;

/** Copies the SQLite hub `from` into the PostgreSQL database `to` (see the module comment), then verifies. */
export async function copyStore(from: Sql, to: Sql, options: CopyOptions = {}): Promise<CopyReport> {
  if (from.dialect !== 'sqlite' || to.dialect !== 'postgres') throw new FoundryError('STORE', 'the copy goes from an SQLite hub to PostgreSQL', { retry: 'terminal' });
  const migrations = options.migrations ?? MIGRATIONS;
  const version = await sameSchema(from, to, migrations, options.now);
  const batch = options.batchRows ?? 1000;
  // one read transaction on the source: every table is read from the same snapshot
  await from.script('BEGIN');
  let result: Omit<CopyReport, 'verification'>;
  try {
    const plans = await planTables(from, to);
    for (const p of plans) await assertSafeIntegers(from, p);
    const highWater = await autoincrementHighWater(from);
    result = await to.tx(async (tx) => {
      await lockEmpty(tx, plans);
      const triggers = await tx.all<{ tab: string; name: string }>(
        "SELECT c.relname AS tab, t.tgname AS name FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND NOT t.tgisinternal AND t.tgenabled <> 'D' ORDER BY 1, 2",
      );
      for (const t of triggers) await tx.script(`ALTER TABLE ${quoteIdent(t.tab)} DISABLE TRIGGER ${quoteIdent(t.name)}`);
      const copied: CopyReport['copied'] = [];
      for (const p of plans) {
        const rows = await copyTable(from, tx, p, Math.max(1, Math.min(batch, Math.floor(60_000 / p.columns.length))));
        copied.push({ table: p.name, rows });
        options.onTable?.(p.name, rows);
      }
      for (const t of triggers) await tx.script(`ALTER TABLE ${quoteIdent(t.tab)} ENABLE TRIGGER ${quoteIdent(t.name)}`);
      const identities: CopyReport['identities'] = [];
      for (const p of plans) {
        if (p.identity === undefined) continue;
        const col = quoteIdent(p.identity);
        const r = await tx.get<{ next: number }>(
          `SELECT setval(pg_get_serial_sequence(?, ?), GREATEST(COALESCE(MAX(${col}), 0), ?) + 1, false) AS next FROM ${quoteIdent(p.name)}`,
          [quoteIdent(p.name), p.identity, highWater.get(p.name) ?? 0],
        );
        identities.push({ table: p.name, column: p.identity, next: r!.next });
      }
      return { schemaVersion: version, copied, triggers: triggers.map((t) => `${t.tab}.${t.name}`), identities };
    });
  } finally {
    await from.script('COMMIT');
  }
  return { ...result, verification: await verifyCopy(from, to) };
}

/**
 * Compares the two databases table by table (row counts, content checksums) and tenant month by tenant
 * month (usage seconds, frozen invoice totals). Reads only; the schemas must match (see copyStore).
 */
export async function verifyCopy(from: Sql, to: Sql, options: { pageRows?: number } = {}): Promise<Verification> {
  const plans = await planTables(from, to);
  const size = options.pageRows ?? 1000;
  const sourceTotals: Totals = new Map();
  const targetTotals: Totals = new Map();
  const visitor = (t: TablePlan, totals: Totals): ((row: Record<string, unknown>) => void) | undefined =>
    t.name === 'usage_records' ? (row) => addUsage(totals, row) : t.name === 'billing_invoices' ? (row) => addInvoice(totals, row) : undefined;
  const tables: TableCheck[] = [];
  for (const t of [...plans].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const source = await digestTable(from, t, size, visitor(t, sourceTotals));
    const target = await digestTable(to, t, size, visitor(t, targetTotals));
    tables.push({ table: t.name, source, target, ok: source.rows === target.rows && source.sha256 === target.sha256 });
  }
  const totals = compareTotals(sourceTotals, targetTotals);
  return { ok: tables.every((t) => t.ok) && totals.every((t) => t.ok), tables, totals };
}

/** Checks the source is at this binary's schema, migrates the target to it, and returns the version. */
async function sameSchema(from: Sql, to: Sql, migrations: readonly Migration[], now?: () => Date): Promise<number> {
  const source = await schemaStatusSql(from, migrations);
  assertNotDowngrade(source, 'the SQLite hub');
  if (source.pending.length > 0) {
    throw new FoundryError(
      'STORE',
      `the SQLite hub is at schema version ${source.databaseVersion} and misses ${source.pending.map((p) => p.version).join(' ')} of this release (up to ${source.binaryVersion}): run \`foundry hub schema upgrade\` on it first, then migrate`,
      { retry: 'terminal' },
    );
  }
  try {
    await migrateSql(to, migrations, now);
  } catch (err) {
    if (err instanceof FoundryError) throw new FoundryError(err.code, err.message.replace('the hub database', 'the PostgreSQL database'), { retry: 'terminal', cause: err });
    throw new FoundryError('STORE', `cannot migrate the PostgreSQL database: ${errorMessage(err)}`, { retry: 'terminal', cause: err });
  }
  const target = await schemaStatusSql(to, migrations);
  const versions = (s: typeof source): string => s.applied.map((a) => a.version).join(' ');
  if (versions(source) !== versions(target)) {
    throw new FoundryError('STORE', `the SQLite hub has migrations ${versions(source)} but the PostgreSQL database ${versions(target)}: both must be at the same schema`, { retry: 'terminal' });
  }
  return source.databaseVersion;
}

/** Locks every target table against other sessions and refuses one that already has rows. */
async function lockEmpty(tx: SqlExecutor, plans: readonly TablePlan[]): Promise<void> {
  if (plans.length > 0) await tx.script(`LOCK TABLE ${plans.map((p) => quoteIdent(p.name)).join(', ')} IN ACCESS EXCLUSIVE MODE`);
  for (const p of plans) {
    if ((await tx.get(`SELECT 1 AS x FROM ${quoteIdent(p.name)} LIMIT 1`)) !== undefined) {
      throw new FoundryError('STORE', `the PostgreSQL database is not empty: table ${p.name} has rows (the copy goes into a new database only; nothing was copied)`, { resource: p.name, retry: 'terminal' });
    }
  }
}

/** Copies one table page by page, each page one multi-row INSERT; returns the rows copied. */
async function copyTable(from: SqlExecutor, tx: SqlExecutor, table: TablePlan, size: number): Promise<number> {
  const cols = table.columns.map(quoteIdent).join(', ');
  const tuple = `(${table.columns.map(() => '?').join(', ')})`;
  let n = 0;
  for await (const page of readPages(from, table, size)) {
    const params: SqlParam[] = [];
    for (const row of page) for (const c of table.columns) params.push(row[c] as SqlParam);
    try {
      await tx.run(`INSERT INTO ${quoteIdent(table.name)} (${cols}) VALUES ${page.map(() => tuple).join(', ')}`, params);
    } catch (err) {
      throw new FoundryError('STORE', `copying table ${table.name} failed after ${n} rows (nothing was committed): ${errorMessage(err)}`, { resource: table.name, retry: 'terminal', cause: err });
    }
    n += page.length;
  }
  return n;
}

/** Refuses integers a JavaScript number cannot hold exactly (the copy would round them; the hub's stay far below). */
async function assertSafeIntegers(from: SqlExecutor, table: TablePlan): Promise<void> {
  for (const c of table.integer) {
    const col = quoteIdent(c);
    const bad = await from.get(`SELECT 1 AS x FROM ${quoteIdent(table.name)} WHERE typeof(${col}) = 'integer' AND (${col} > ? OR ${col} < ?) LIMIT 1`, [MAX_SAFE, -MAX_SAFE]);
    if (bad !== undefined) throw new FoundryError('STORE', `column ${table.name}.${c} holds an integer beyond 2^53, which the copy cannot carry exactly`, { resource: `${table.name}.${c}`, retry: 'terminal' });
  }
}

/** SQLite's AUTOINCREMENT high-water marks (sqlite_sequence): ids once used are never given out again. */
async function autoincrementHighWater(from: SqlExecutor): Promise<Map<string, number>> {
  if ((await from.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'")) === undefined) return new Map();
  const rows = await from.all<{ name: string; seq: number }>('SELECT name, seq FROM sqlite_sequence');
  return new Map(rows.map((r) => [r.name, r.seq]));
}

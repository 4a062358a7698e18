/**
 * Reads a table in primary key order, a page at a time (keyset paging: each page starts after the last
 * key of the one before), the same way on SQLite and PostgreSQL, so the copy never holds a whole table in
 * memory and both sides of the verification see their rows in the same order. PostgreSQL sorts text
 * columns with COLLATE "C" here, byte-wise as SQLite does, and NULLs first as SQLite does.
 */
import { createHash } from 'node:crypto';
import type { SqlExecutor, SqlParam } from './sql/sql.js';
import { quoteIdent, type TablePlan } from './copy-schema.js';

/** A row as read, by column name. */
export type Row = Record<string, unknown>;

/** The pages of `table`'s rows in key order (all columns in order when it has no key), `size` rows each. */
export async function* readPages(exec: SqlExecutor, table: TablePlan, size: number): AsyncGenerator<Row[]> {
  const sort = (c: string): string => (exec.dialect === 'postgres' && table.text.has(c) ? `${quoteIdent(c)} COLLATE "C"` : quoteIdent(c));
  const select = `SELECT ${table.columns.map(quoteIdent).join(', ')} FROM ${quoteIdent(table.name)}`;
  if (table.key.length === 0) {
    // no key to resume after: pages by offset over every column
    const order = table.columns.map((c) => `${sort(c)} NULLS FIRST`).join(', ');
    for (let offset = 0; ; offset += size) {
      const rows = await exec.all<Row>(`${select} ORDER BY ${order} LIMIT ? OFFSET ?`, [size, offset]);
      if (rows.length > 0) yield rows;
      if (rows.length < size) return;
    }
  }
  const order = table.key.map(sort).join(', ');
  const after = `(${table.key.map(sort).join(', ')}) > (${table.key.map(() => '?').join(', ')})`;
  let last: SqlParam[] | undefined;
  for (;;) {
    const rows = last === undefined
      ? await exec.all<Row>(`${select} ORDER BY ${order} LIMIT ?`, [size])
      : await exec.all<Row>(`${select} WHERE ${after} ORDER BY ${order} LIMIT ?`, [...last, size]);
    if (rows.length > 0) yield rows;
    if (rows.length < size) return;
    const end = rows[rows.length - 1]!;
    last = table.key.map((k) => end[k] as SqlParam);
  }
}

/** A table's row count and content checksum. */
export interface TableDigest {
  rows: number;
  /** sha256 (hex) over the canonical JSON of every row, in key order. */
  sha256: string;
}

/**
 * Counts and hashes `table` on one side; `visit` sees every row (the invoice totals read them in the same
 * pass). Each row is hashed as the JSON array of its values in column order, with bytes as
 * {"bytes": base64}, so equal checksums mean equal rows, value for value, in the same order.
 */
export async function digestTable(exec: SqlExecutor, table: TablePlan, size: number, visit?: (row: Row) => void): Promise<TableDigest> {
  const hash = createHash('sha256');
  let rows = 0;
  for await (const page of readPages(exec, table, size)) {
    for (const row of page) {
      hash.update(`${JSON.stringify(table.columns.map((c) => canonical(row[c])))}\n`);
      visit?.(row);
      rows += 1;
    }
  }
  return { rows, sha256: hash.digest('hex') };
}

/** A value as the checksum sees it: the same JSON for the same value, whichever driver read it. */
export function canonical(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return { bytes: v.toString('base64') };
  if (typeof v === 'bigint') return { integer: v.toString() };
  if (typeof v === 'number') return Object.is(v, -0) ? 0 : v;
  if (v instanceof Date) return { date: v.toISOString() };
  return v;
}

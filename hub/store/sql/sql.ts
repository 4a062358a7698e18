/**
 * The hub's one way to talk to its database, whichever it is: SQLite (embedded, one machine) or
 * PostgreSQL (several replicas). Repositories in hub/store/ write their SQL once against this interface:
 *
 * - placeholders are `?`, positional (the PostgreSQL driver numbers them `$1`, `$2`, ...);
 * - portable SQL only: `INSERT ... ON CONFLICT ... DO NOTHING/UPDATE` (never `INSERT OR IGNORE`),
 *   `RETURNING` (never a last-insert rowid), `COALESCE`, `CASE`; where the dialects differ (JSON fields,
 *   dates), branch on `dialect` or use the helpers below;
 * - integers come back as JavaScript numbers on both (PostgreSQL's BIGINT, NUMERIC and COUNT included),
 *   flags are stored as 0/1 integers, times as ISO-8601 text or epoch milliseconds;
 * - a transaction is `tx(fn)`: everything `fn` runs through its executor commits together or not at all.
 *   Await only the executor's calls inside `fn`: on SQLite the transaction holds the one connection, and
 *   every other statement of the hub waits for it.
 */

/** Which database a store runs on. */
export type SqlDialect = 'sqlite' | 'postgres';

/** A value bound to a `?` placeholder. */
export type SqlParam = string | number | bigint | null | Buffer;

/** What a write statement reports. */
export interface SqlRunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
}

/** Runs statements: the store itself, or the inside of one transaction. */
export interface SqlExecutor {
  readonly dialect: SqlDialect;
  /** Every row of a query. */
  all<T = Record<string, unknown>>(text: string, params?: readonly SqlParam[]): Promise<T[]>;
  /** The first row of a query, or undefined. */
  get<T = Record<string, unknown>>(text: string, params?: readonly SqlParam[]): Promise<T | undefined>;
  /** A write statement. */
  run(text: string, params?: readonly SqlParam[]): Promise<SqlRunResult>;
  /** A script of several statements without parameters (migrations only). */
  script(text: string): Promise<void>;
}

/** How durable a transaction's commit must be when it returns. */
export type SqlDurability =
  /** On disk (SQLite synchronous=FULL, PostgreSQL synchronous_commit as configured): usage, money, credentials. */
  | 'full'
  /** May be lost in a power cut (telemetry, presence): SQLite synchronous=NORMAL, PostgreSQL synchronous_commit=off. */
  | 'relaxed';

/** A database connection (or pool) with transactions. */
export interface Sql extends SqlExecutor {
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws (the error is rethrown). */
  tx<T>(fn: (tx: SqlExecutor) => Promise<T>, options?: { durability?: SqlDurability }): Promise<T>;
  /** Closes the connection (pool); pending statements finish first. */
  close(): Promise<void>;
}

/**
 * The expression reading `key` of the JSON object stored as text in `column`, as text (null when absent
 * or not a string/number): `json_extract` on SQLite, `->>` on PostgreSQL. `key` is a plain identifier.
 */
export function jsonText(dialect: SqlDialect, column: string, key: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`jsonText: not a plain key: ${key}`);
  return dialect === 'sqlite' ? `json_extract(${column}, '$.${key}')` : `((${column})::jsonb ->> '${key}')`;
}

/**
 * Rewrites `?` placeholders as `$1`, `$2`, ... (PostgreSQL), leaving those inside quoted strings,
 * quoted identifiers and comments alone.
 */
export function numberedPlaceholders(text: string): string {
  let out = '';
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      const stop = end === -1 ? text.length : end + 1;
      out += text.slice(i, stop);
      i = stop - 1;
    } else if (c === '-' && text[i + 1] === '-') {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? text.length : end;
      out += text.slice(i, stop);
      i = stop - 1;
    } else if (c === '?') {
      n += 1;
      out += `$${n}`;
    } else out += c;
  }
  return out;
}

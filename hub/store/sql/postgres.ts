/**
 * The Sql interface over a PostgreSQL pool (node-postgres, `pg`). Integers (INT8, NUMERIC: COUNT, SUM)
 * come back as numbers, as on SQLite: the hub's integers (milliseconds, micro-units of money, sequence
 * numbers) stay far below 2^53. A transaction takes one pooled client from BEGIN to COMMIT.
 */
import type { Pool, PoolClient } from 'pg';
import { FoundryError } from '../../../common/errors.js';
import { numberedPlaceholders, type Sql, type SqlDurability, type SqlExecutor, type SqlParam, type SqlRunResult } from './sql.js';

const INT8 = 20;
/** SQLSTATEs after which a transaction is simply run again. */
const DEADLOCK = '40P01';
const SERIALIZATION_FAILURE = '40001';
const NUMERIC = 1700;

/** Connection settings beyond the URL. */
export interface PostgresOptions {
  /** Most connections the pool opens (default 10). */
  max?: number;
  /** Name shown in pg_stat_activity (default foundry-hub). */
  applicationName?: string;
}

type Queryable = Pick<Pool, 'query'> | Pick<PoolClient, 'query'>;

/** Opens a pool on `url` (postgres://user@host:port/db) and checks that the server answers. */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<PostgresSql> {
  const pg = (await import('pg')).default;
  const types = {
    getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === INT8 || oid === NUMERIC ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? 'text')),
  };
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, application_name: options.applicationName ?? 'foundry-hub', types: types as never });
  // an idle client that loses its server (a restart) must not crash the hub: the next query reconnects
  pool.on('error', () => undefined);
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new FoundryError('STORE', `cannot reach PostgreSQL at ${redactUrl(url)}`, { cause: err });
  }
  return new PostgresSql(pool);
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'an invalid PostgreSQL URL';
  }
}

function executor(q: Queryable): SqlExecutor {
  const query = async <T>(text: string, params: readonly SqlParam[]): Promise<{ rows: T[]; rowCount: number | null }> =>
    (await q.query(numberedPlaceholders(text), params as unknown[])) as unknown as { rows: T[]; rowCount: number | null };
  return {
    dialect: 'postgres',
    all: async <T>(text: string, params: readonly SqlParam[] = []) => (await query<T>(text, params)).rows,
    get: async <T>(text: string, params: readonly SqlParam[] = []) => (await query<T>(text, params)).rows[0],
    run: async (text: string, params: readonly SqlParam[] = []): Promise<SqlRunResult> => ({ changes: (await query(text, params)).rowCount ?? 0 }),
    // no parameters: the simple query protocol, which takes several statements
    script: async (text: string) => void (await q.query(text)),
  };
}

/** Sql over a pg Pool. */
export class PostgresSql implements Sql {
  readonly dialect = 'postgres' as const;
  private readonly direct: SqlExecutor;

  constructor(readonly pool: Pool) {
    this.direct = executor(pool);
  }

  all<T = Record<string, unknown>>(text: string, params?: readonly SqlParam[]): Promise<T[]> {
    return this.direct.all<T>(text, params);
  }

  get<T = Record<string, unknown>>(text: string, params?: readonly SqlParam[]): Promise<T | undefined> {
    return this.direct.get<T>(text, params);
  }

  run(text: string, params?: readonly SqlParam[]): Promise<SqlRunResult> {
    return this.direct.run(text, params);
  }

  /**
   * Runs `fn` in a transaction. A deadlock or serialization failure (another replica took the same rows in
   * another order) rolls back and runs `fn` again, up to three times: `fn` must only touch the database.
   */
  async tx<T>(fn: (tx: SqlExecutor) => Promise<T>, options: { durability?: SqlDurability } = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(fn, options);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (attempt >= 3 || (code !== DEADLOCK && code !== SERIALIZATION_FAILURE)) throw err;
      }
    }
  }

  private async once<T>(fn: (tx: SqlExecutor) => Promise<T>, options: { durability?: SqlDurability }): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      if (options.durability === 'relaxed') await client.query('SET LOCAL synchronous_commit = off');
      const result = await fn(executor(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw err;
    } finally {
      client.release(broken);
    }
  }

  script(text: string): Promise<void> {
    return this.direct.script(text);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

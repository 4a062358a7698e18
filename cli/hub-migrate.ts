/**
 * `foundry hub migrate --from HUB.DB --to postgres://...`: copies a stopped SQLite hub into a new
 * PostgreSQL database (hub/store/copy-store.ts) and prints, per table, the rows on both sides and whether
 * their content checksums match, then the usage and invoice totals per tenant and month. Exit 0 only when
 * everything matches. The URL's password is never printed (put it in PGPASSWORD to keep it
 * out of the process list too).
 */
import type { Command } from 'commander';
import { FoundryError, errorMessage, isFoundryError } from '../common/errors.js';
import type { CopyReport } from '../hub/store/copy-store.js';

/** Registers `hub migrate` under the hub command. */
export function registerHubMigrate(hub: Command): void {
  hub
    .command('migrate')
    .description('copy a stopped SQLite hub into an empty PostgreSQL database (migrated first to this release\'s schema) in one transaction, then verify row counts, content checksums and invoice totals; exit 0 only when all match')
    .requiredOption('--from <file>', 'the SQLite hub database (DATA-DIR/hub.db), opened read-only; stop the hub first')
    .requiredOption('--to <url>', 'the PostgreSQL database: postgres://USER@HOST:PORT/DATABASE (the password from PGPASSWORD, or in the URL)')
    .option('--json', 'print the report as JSON')
    .action(async (o: { from: string; to: string; json?: boolean }) => {
      const url = checkUrl(o.to);
      const { redactUrl, openPostgres } = await import('../hub/store/sql/postgres.js');
      const { openSqliteSource } = await import('../hub/store/copy-source.js');
      const { copyStore } = await import('../hub/store/copy-store.js');
      const shown = redactUrl(url);
      const source = openSqliteSource(o.from);
      try {
        const target = await openPostgres(url, { max: 2, applicationName: 'foundry-hub-migrate' }).catch((err: unknown) => {
          throw withCause(err, url);
        });
        try {
          if (o.json !== true) process.stderr.write(`copying ${o.from} into ${shown} in one transaction (the hub must stay stopped)\n`);
          const report = await copyStore(source.sql, target, { onTable: (t, n) => o.json !== true && process.stderr.write(`  ${t}: ${n} rows\n`) });
          process.stdout.write(o.json === true ? `${JSON.stringify({ from: o.from, to: shown, ...report }, null, 2)}\n` : formatCopyReport(report, o.from, shown));
          if (!report.verification.ok) {
            throw new FoundryError('STORE', 'the copy does not match its source (see the report above): do not start the hub on it; drop the database, find the cause, and migrate again', { retry: 'terminal' });
          }
        } finally {
          await target.close();
        }
      } catch (err) {
        throw scrubbed(err, url);
      } finally {
        await source.close();
      }
    });
}

/** The report as text: a row per table, a row per tenant and month, and the verdict. */
export function formatCopyReport(report: CopyReport, from: string, to: string): string {
  const v = report.verification;
  const tableRows = v.tables.map((t) => [t.table, String(t.source.rows), String(t.target.rows), t.ok ? 'match' : 'MISMATCH', t.target.sha256.slice(0, 16)]);
  const totalRows = v.totals.map((t) => [
    t.tenant,
    t.month,
    pair(t.source.records, t.target.records),
    pair(t.source.seconds, t.target.seconds),
    pair(t.source.invoice ?? '-', t.target.invoice ?? '-'),
    t.ok ? 'match' : 'MISMATCH',
  ]);
  const lines = [
    `source: ${from} (schema version ${report.schemaVersion})`,
    `target: ${to}`,
    '',
    ...table(['table', 'source rows', 'target rows', 'checksum', 'sha256'], tableRows),
    '',
    ...(totalRows.length === 0 ? ['no usage records or invoices'] : table(['tenant', 'month', 'records', 'seconds', 'invoice total', 'totals'], totalRows)),
    '',
    ...report.identities.map((i) => `${i.table}.${i.column}: new rows start at ${i.next}`),
    ...(report.triggers.length === 0 ? [] : [`held off during the copy: ${report.triggers.join(', ')} (its rows were copied as decided)`]),
    v.ok
      ? `migrated: ${v.tables.length} tables, every count, checksum and total matches; point the hub at the PostgreSQL database now`
      : `NOT migrated cleanly: ${v.tables.filter((t) => !t.ok).length} tables and ${v.totals.filter((t) => !t.ok).length} tenant months differ`,
  ];
  return `${lines.join('\n')}\n`;
}

function pair(a: string | number, b: string | number): string {
  return a === b ? String(a) : `${a} → ${b}`;
}

function table(head: string[], rows: string[][]): string[] {
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 || (i === 1 && head[1] === 'month') ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)];
}

/** The URL when it is a PostgreSQL URL; a usage error that does not repeat it otherwise (it may hold a password). */
function checkUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new FoundryError('CLI_USAGE', '--to: not a URL; expected postgres://USER@HOST:PORT/DATABASE');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new FoundryError('CLI_USAGE', `--to: expected a postgres:// URL, not ${u.protocol}//`);
  if (u.pathname.length <= 1) throw new FoundryError('CLI_USAGE', '--to: the URL names no database (postgres://USER@HOST:PORT/DATABASE)');
  return url;
}

/** The error with its cause's message added (the server's own words help); scrubbed of the password. */
function withCause(err: unknown, url: string): unknown {
  if (!isFoundryError(err) || err.cause === undefined) return scrubbed(err, url);
  return scrubbed(new FoundryError(err.code, `${err.message}: ${errorMessage(err.cause)}`, { retry: err.retry, resource: err.resource }), url);
}

/** A FoundryError whose message holds no trace of the URL's password (anything else: a failed migration). */
function scrubbed(err: unknown, url: string): FoundryError {
  const e = isFoundryError(err) ? err : new FoundryError('STORE', `the migration failed: ${errorMessage(err)}`, { retry: 'terminal', cause: err });
  const password = passwordOf(url);
  if (password.length === 0) return e;
  const secrets = [password, encodeURIComponent(password)];
  if (!secrets.some((p) => e.message.includes(p))) return e;
  return new FoundryError(e.code, secrets.reduce((m, p) => m.split(p).join('***'), e.message), { retry: e.retry, resource: e.resource });
}

function passwordOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    return '';
  }
}

/**
 * A populated SQLite hub file for the migration tests: rows in every table the migrations create, through
 * plain inserts (the Sql interface), with what makes a copy hard: foreign keys whose parents sort after
 * their children, the reserved column "user", floats, non-ASCII text, keys that sort differently by
 * locale, an AUTOINCREMENT table whose last ids were deleted, and usage records in a closed month (so the
 * SQLite trigger of migration 35 has put rows in usage_late).
 */
import Database from 'better-sqlite3';
import { SqliteSql } from '../../hub/store/sql/sqlite.js';
import type { SqlParam } from '../../hub/store/sql/sql.js';
import { migrateSql } from '../../hub/store/migrate.js';
import { MIGRATIONS, type Migration } from '../../hub/store/migrations/index.js';

/** Epoch ms of a UTC date. */
const at = (iso: string): number => Date.parse(iso);
const T = '2026-02-10T12:00:00.000Z';

/** The usage record stored before January was closed (id 1). */
export const ON_TIME = { tenant: 'acme', workspace: 'acme/train', from: at('2026-01-10T00:00:00Z'), to: at('2026-01-10T01:00:00Z') };

/** Usage records stored after January was closed (ids 2 to 4; beyond them `extraUsage`): tenant, workspace and the [from, to) stretch. */
export const FIXTURE_USAGE = [
  { tenant: 'acme', workspace: 'acme/train', from: at('2026-01-05T00:00:00Z'), to: at('2026-01-05T02:00:00Z') },
  { tenant: 'acme', workspace: 'acme/train', from: at('2026-01-31T23:00:00Z'), to: at('2026-02-01T01:00:00Z') },
  { tenant: 'globex', workspace: 'globex/ünïcødé', from: at('2026-02-03T00:00:00Z'), to: at('2026-02-03T00:30:00Z') },
] as const;

/**
 * Writes a hub database at `path` migrated with `migrations`, and fills it (only tables those migrations
 * have). `extraUsage` more usage records of tenant "bulk" in February, for tables larger than one page.
 */
export async function writePopulatedHub(path: string, options: { migrations?: readonly Migration[]; extraUsage?: number } = {}): Promise<void> {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  const sql = new SqliteSql(db);
  const migrations = options.migrations ?? MIGRATIONS;
  await migrateSql(sql, migrations);
  const tables = new Set((await sql.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")).map((r) => r.name));
  const put = async (table: string, row: Record<string, SqlParam>): Promise<void> => {
    if (!tables.has(table)) return;
    const cols = Object.keys(row);
    await sql.run(`INSERT INTO ${table} (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`, Object.values(row));
  };
  for (const name of ['gpu-b', 'Gpu-a', '_edge', 'gpu-a']) {
    await put('nodes', { name, credential_hash: `h-${name}`, status: 'connected', last_seen_at: T, agent_version: '1.2.3', applied_revision: 'abc', inventory: '{"gpus":[{"model":"H100"}]}', revoked: name === '_edge' ? 1 : 0, created_at: T });
  }
  for (const label of ['ci', 'ops', 'gone']) await put('admin_tokens', { label, token_hash: `t-${label}`, created_at: T });
  await sql.run("DELETE FROM admin_tokens WHERE label = 'gone'");

  const invoice = (tenant: string, amount: string): string => JSON.stringify({ tenant, month: '2026-01', currency: 'EUR', lines: [], totals: { seconds: 7200, gpuSeconds: 7200, gpuHours: '2.000000', amount, amountMinor: '1234' } });
  await put('billing_invoices', { tenant: 'acme', month: '2026-01', invoice_json: invoice('acme', '12.34'), invoice_csv: 'workspace,amount\r\nacme/train,12.34\r\n' });
  await put('billing_invoices', { tenant: 'globex', month: '2026-01', invoice_json: invoice('globex', '0.00'), invoice_csv: 'workspace,amount\r\n' });
  let seq = 0;
  const usage = async (u: { tenant: string; workspace: string; from: number; to: number }, node = 'gpu-a', receivedAt = '2026-02-05T00:00:00.000Z'): Promise<void> => {
    seq += 1;
    const payload = JSON.stringify({ kind: 'gpu-allocation', ...u, node, gpuUuid: 'GPU-1', gpuModel: 'H100', measuredAvgUtilizationPct: 87.5 });
    await put('usage_records', { node, seq, payload, received_at: receivedAt });
  };
  // on time: stored before January closed, so no late row (a trigger firing again at the copy would add one)
  await usage(ON_TIME, 'gpu-a', '2026-01-10T01:00:00.000Z');
  await put('billing_closed_months', { month: '2026-01', closed_at_ms: at('2026-02-02T00:00:00Z'), closed_by: 'admin' });
  for (const u of FIXTURE_USAGE) await usage(u);
  for (let i = 0; i < (options.extraUsage ?? 0); i++) await usage({ tenant: 'bulk', workspace: 'bulk/w', from: at('2026-02-04T00:00:00Z') + i * 60_000, to: at('2026-02-04T00:00:00Z') + i * 60_000 + 59_999 }, 'gpu-b');
  await put('usage_refusals', { node: 'gpu-a', seq: 999, reason: 'malformed', field: 'to', message: 'to before from', record: '{"to":1}', received_at: T });
  await put('status_events', { node: 'gpu-a', seq: 1000, payload: '{"phase":"Running"}', received_at: T });
  await put('node_status', { node: 'gpu-a', seq: 1000, payload: '{"phase":"Running"}', updated_at: T });
  await put('telemetry_latest', { node: 'gpu-a', at: at(T), payload: '{"gpus":[]}' });
  await put('telemetry_rollups', { node: 'gpu-a', minute: 29_000_000, samples: 3, gpu_util_sum: 0.1 + 0.2, gpu_util_samples: 3, gpu_mem_used_mib_sum: 1e300, host_cpu_sum: 100 / 3, host_cpu_samples: 3 });
  await put('audit_log', { at: T, actor: 'cli', action: 'node.credential.issue', target: 'gpu-a', details: '{"why":"tëst"}' });
  await put('audit_log', { at: T, actor: 'cli', action: 'admin-token.create', target: null, details: null });
  await put('repo_revisions', { revision: 'abc', ref: 'refs/heads/main', source: 'push', received_at: T });
  await put('join_tokens', { id: 'jt1', token_hash: 'jh1', profile: 'gpu', labels: '{}', max_uses: 2, uses: 1, expires_at: T, created_by: 'admin', created_at: T, node: 'gpu-a' });
  await put('node_enrollments', { node: 'gpu-a', token_id: 'jt1', hostname: 'gpu-a.local', profile: 'gpu', labels: '{}', inventory: '{}', node_file: 'nodes/gpu-a.yaml', enrolled_at: T });
  await put('hub_identity', { id: 1, url: 'https://hub.example', tls_pin: 'sha256/x', updated_at: T });
  await put('users', { name: 'alice', role: 'tenant', tenant: 'acme', password_hash: 'scrypt$x', must_change_password: 0, totp_secret: null, totp_enabled: 0, totp_last_step: 0, created_at: T, tenant_role: 'admin', email: 'alice@acme.example', display_name: 'Alice Ä' });
  await put('users', { name: 'root', role: 'admin', tenant: null, password_hash: 'scrypt$y', created_at: T });
  await put('recovery_codes', { user: 'alice', code_hash: 'rc1', used_at: null });
  await put('sessions', { id_hash: 's1', user: 'alice', csrf_token: 'c', ip: '10.0.0.1', created_at: T, last_seen_at: T, expires_at: T, sso_provider: null });
  await put('api_tokens', { id: 'tok1', label: 'ci', token_hash: 'ah1', role: 'tenant', tenant: 'acme', created_by: 'alice', created_at: T, scope: 'api apps', user: 'alice' });
  await put('workspace_lifecycle', { name: 'acme/train', tenant: 'acme', phase: 'Running', reason: 'Started', node: 'gpu-a', revision: 'abc', running_at: T, updated_at: T });
  await put('workspace_events', { name: 'acme/train', tenant: 'acme', at: T, phase: 'Running', reason: 'Started' });
  await put('workspace_secrets', { workspace: 'acme/train', name: 'TOKEN', tenant: 'acme', version: 2, ciphertext: '-----BEGIN AGE ENCRYPTED FILE-----', created_at: T, updated_at: T, updated_by: 'alice' });
  await put('app_login_codes', { code_hash: 'lc1', session_hash: 's1', host: 'nb--acme-train.apps', rd: '/', expires_at: T });
  await put('app_sessions', { id_hash: 'as1', session_hash: 's1', host: 'nb--acme-train.apps', created_at: T, expires_at: T });
  await put('sso_logins', { state_hash: 'st1', provider: 'okta', binding_hash: 'b', nonce: 'n', code_verifier: 'v', created_at: T, expires_at: T });
  await put('sso_step_ups', { ticket_hash: 'tk1', user: 'alice', provider: 'okta', created_at: T, expires_at: T });
  await put('saml_requests', { provider: 'adfs', id: '_r1', binding_hash: null, created_at: T });
  await put('saml_assertions', { provider: 'adfs', id: '_a1', subject: 'alice', expires_at: T, accepted_at: T });
  await put('saml_sessions', { provider: 'adfs', subject: 'alice', name_id_format: 'urn:x', session_index: '_s', updated_at: T });
  await put('volume_keys', { workspace: 'acme/train', kind: 'volume', name: 'data', tenant: 'acme', reclaim: 'Delete', wrapped: '-----BEGIN AGE ENCRYPTED FILE-----', created_at: T, created_for_node: 'gpu-a' });
  await sql.close();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

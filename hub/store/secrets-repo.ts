/**
 * Tenant secrets of workspaces (migration 40): one row per (workspace, name), its value an armored age
 * file encrypted to the hub (the domain, hub/secrets/workspace-secrets.ts, encrypts and decrypts; this
 * repository only stores ciphertexts). A workspace's rows always belong to one tenant.
 */
import type { Sql, SqlExecutor } from './sql/sql.js';

/** A stored secret: its ciphertext, never a plaintext. */
export interface SecretRow {
  name: string;
  tenant: string;
  version: number;
  ciphertext: string;
  createdAt: string;
  updatedAt: string;
  updatedBy: string;
}

/** What a put writes. */
export interface SecretPut {
  workspace: string;
  tenant: string;
  name: string;
  ciphertext: string;
  /** ISO-8601 time of the change. */
  at: string;
  actor: string;
}

/** Storage of tenant secrets. */
export interface SecretsRepo {
  /** The secrets of `tenant`'s workspace, sorted by name. */
  list(workspace: string, tenant: string): Promise<SecretRow[]>;
  /**
   * In one transaction: forgets the workspace's secrets of any other tenant (a name taken again by another
   * tenant must not inherit them), calls `admit` with the tenant's other secrets (it throws to refuse: nothing
   * is written), then creates the secret at version 1 or replaces it with the next version.
   */
  put(p: SecretPut, admit: (others: SecretRow[]) => void): Promise<{ version: number; created: boolean }>;
  /** Deletes one secret of `tenant`'s workspace; false when there was none. */
  remove(workspace: string, tenant: string, name: string): Promise<boolean>;
  /** Deletes every secret of `tenant`'s workspace; returns how many. */
  removeAll(workspace: string, tenant: string): Promise<number>;
}

/** Class id of the PostgreSQL advisory locks that serialise puts per workspace (the key is the workspace's hash). */
const PUT_LOCK_CLASS = 7_316_040;

const COLUMNS = 'name, tenant, version, ciphertext, created_at AS "createdAt", updated_at AS "updatedAt", updated_by AS "updatedBy"';

/** SecretsRepo over the Sql interface. */
export class SqlSecretsRepo implements SecretsRepo {
  constructor(private readonly sql: Sql) {}

  list(workspace: string, tenant: string): Promise<SecretRow[]> {
    return rowsOf(this.sql, workspace, tenant);
  }

  put(p: SecretPut, admit: (others: SecretRow[]) => void): Promise<{ version: number; created: boolean }> {
    return this.sql.tx(async (tx) => {
      // SQLite's BEGIN IMMEDIATE already serialises writers; on PostgreSQL two replicas adding different
      // names to one workspace at once would both pass the quota without this lock.
      if (tx.dialect === 'postgres') await tx.get('SELECT pg_advisory_xact_lock(?, hashtext(?)) AS locked', [PUT_LOCK_CLASS, p.workspace]);
      await tx.run('DELETE FROM workspace_secrets WHERE workspace = ? AND tenant <> ?', [p.workspace, p.tenant]);
      admit((await rowsOf(tx, p.workspace, p.tenant)).filter((r) => r.name !== p.name));
      const row = await tx.get<{ version: number }>(
        `INSERT INTO workspace_secrets (workspace, name, tenant, version, ciphertext, created_at, updated_at, updated_by) VALUES (?, ?, ?, 1, ?, ?, ?, ?)
         ON CONFLICT (workspace, name) DO UPDATE SET version = workspace_secrets.version + 1, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at, updated_by = excluded.updated_by
         RETURNING version`,
        [p.workspace, p.name, p.tenant, p.ciphertext, p.at, p.at, p.actor],
      );
      const version = row!.version;
      // a replace always counts up from 1, so version 1 is a new row
      return { version, created: version === 1 };
    });
  }

  async remove(workspace: string, tenant: string, name: string): Promise<boolean> {
    return (await this.sql.run('DELETE FROM workspace_secrets WHERE workspace = ? AND tenant = ? AND name = ?', [workspace, tenant, name])).changes > 0;
  }

  async removeAll(workspace: string, tenant: string): Promise<number> {
    return (await this.sql.run('DELETE FROM workspace_secrets WHERE workspace = ? AND tenant = ?', [workspace, tenant])).changes;
  }
}

function rowsOf(ex: SqlExecutor, workspace: string, tenant: string): Promise<SecretRow[]> {
  return ex.all<SecretRow>(`SELECT ${COLUMNS} FROM workspace_secrets WHERE workspace = ? AND tenant = ? ORDER BY name`, [workspace, tenant]);
}

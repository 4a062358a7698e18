/**
 * Tenant secrets of workspaces, in the hub's store: each value encrypted at rest to the hub's own age
 * recipient (an armored age file per row), so the database file never holds a plaintext. Names, versions
 * and times are what the API may show; values are decrypted only to be re-encrypted for the node that runs
 * the workspace (secret-delivery.ts). Every change is audited, never with its value.
 */
import type Database from 'better-sqlite3';
import { FoundryError } from '../../common/errors.js';
import { decryptWithIdentities, encryptToRecipients } from '../../common/secrets/age.js';
import type { HubAgeIdentity } from './hub-identity.js';

/** Limits of tenant secrets (a workspace's secrets travel to its node in one protocol frame). */
export const SECRET_LIMITS = { maxValueBytes: 64 * 1024, maxPerWorkspace: 32, maxTotalBytes: 128 * 1024 } as const;
/** What a secret name looks like (it is also what a container's `secrets[].name` refers to). */
export const SECRET_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** A secret as listed: never its value. */
export interface SecretListing {
  name: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  updatedBy: string;
}

/** A secret decrypted for delivery, or why it could not be (naming the secret, never a value). */
export type OpenedSecret = { name: string; version: number; value: Uint8Array } | { name: string; version: number; error: string };

interface Row {
  name: string;
  tenant: string;
  version: number;
  ciphertext: string;
  created_at: string;
  updated_at: string;
  updated_by: string;
}

/** The store of tenant secrets. */
export class WorkspaceSecrets {
  constructor(
    private readonly db: Database.Database,
    private readonly hub: HubAgeIdentity,
    private readonly audit: (actor: string, action: string, target?: string, details?: Record<string, unknown>) => void,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Sets (or replaces) a secret of `tenant`'s workspace; returns its new version. */
  async set(workspace: string, tenant: string, name: string, value: Uint8Array, actor: string): Promise<{ version: number; created: boolean }> {
    if (!SECRET_NAME.test(name)) throw new FoundryError('BAD_REQUEST', `secret name ${JSON.stringify(name.slice(0, 80))}: use lowercase letters, digits and '-', at most 63, starting and ending with a letter or digit (a template's secrets[].name refers to it)`, { resource: name.slice(0, 80) });
    if (value.length === 0) throw new FoundryError('BAD_REQUEST', `secret ${workspace}/${name}: the value is empty`, { resource: `${workspace}/${name}` });
    if (value.length > SECRET_LIMITS.maxValueBytes) throw new FoundryError('BAD_REQUEST', `secret ${workspace}/${name}: the value has ${value.length} bytes, at most ${SECRET_LIMITS.maxValueBytes} are allowed`, { resource: `${workspace}/${name}` });
    // A name taken again by another tenant after a delete must not inherit the old tenant's secrets.
    this.db.prepare('DELETE FROM workspace_secrets WHERE workspace = ? AND tenant <> ?').run(workspace, tenant);
    const rows = this.rows(workspace, tenant).filter((r) => r.name !== name);
    if (rows.length + 1 > SECRET_LIMITS.maxPerWorkspace) throw new FoundryError('BAD_REQUEST', `workspace ${workspace} already has ${rows.length} secrets, at most ${SECRET_LIMITS.maxPerWorkspace} are allowed`, { resource: workspace });
    const others = rows.reduce((s, r) => s + plainBytesOf(r.ciphertext), 0);
    if (others + value.length > SECRET_LIMITS.maxTotalBytes) throw new FoundryError('BAD_REQUEST', `workspace ${workspace}: its secrets would hold ${others + value.length} bytes, at most ${SECRET_LIMITS.maxTotalBytes} are allowed`, { resource: workspace });
    const ciphertext = await encryptToRecipients(value, [this.hub.recipient]);
    const at = this.now().toISOString();
    const result = this.db.transaction(() => {
      const cur = this.db.prepare('SELECT version FROM workspace_secrets WHERE workspace = ? AND name = ?').get(workspace, name) as { version: number } | undefined;
      const version = (cur?.version ?? 0) + 1;
      this.db
        .prepare('INSERT INTO workspace_secrets (workspace, name, tenant, version, ciphertext, created_at, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(workspace, name) DO UPDATE SET version = excluded.version, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at, updated_by = excluded.updated_by')
        .run(workspace, name, tenant, version, ciphertext, at, at, actor);
      return { version, created: cur === undefined };
    })();
    this.audit(actor, result.created ? 'workspace.secret.create' : 'workspace.secret.replace', `${workspace}/${name}`, { tenant, version: result.version });
    return result;
  }

  /** The secrets of `tenant`'s workspace: names, versions and times, sorted by name. */
  list(workspace: string, tenant: string): SecretListing[] {
    return this.rows(workspace, tenant).map((r) => ({ name: r.name, version: r.version, createdAt: r.created_at, updatedAt: r.updated_at, updatedBy: r.updated_by }));
  }

  /** Deletes a secret; false when there was none. */
  remove(workspace: string, tenant: string, name: string, actor: string): boolean {
    const gone = this.db.prepare('DELETE FROM workspace_secrets WHERE workspace = ? AND tenant = ? AND name = ?').run(workspace, tenant, name).changes > 0;
    if (gone) this.audit(actor, 'workspace.secret.delete', `${workspace}/${name}`, { tenant });
    return gone;
  }

  /** Deletes every secret of a workspace (the workspace was deleted); returns how many. */
  removeAll(workspace: string, tenant: string, actor: string): number {
    const n = this.db.prepare('DELETE FROM workspace_secrets WHERE workspace = ? AND tenant = ?').run(workspace, tenant).changes;
    if (n > 0) this.audit(actor, 'workspace.secret.delete-all', workspace, { tenant, count: n });
    return n;
  }

  /** `name:version` of each secret of the workspace, sorted: changes when any secret changes. */
  fingerprint(workspace: string, tenant: string): string {
    return this.rows(workspace, tenant).map((r) => `${r.name}:${r.version}`).join(',');
  }

  /** Decrypts each secret of the workspace with the hub's identity; a damaged one is an error naming it. */
  async open(workspace: string, tenant: string): Promise<OpenedSecret[]> {
    const out: OpenedSecret[] = [];
    for (const r of this.rows(workspace, tenant)) {
      try {
        out.push({ name: r.name, version: r.version, value: await decryptWithIdentities(r.ciphertext, [this.hub.identity]) });
      } catch (err) {
        out.push({ name: r.name, version: r.version, error: `secret ${workspace}/${r.name} (version ${r.version}) in the hub's store cannot be decrypted with the hub's age identity: ${reason(err)}` });
      }
    }
    return out;
  }

  private rows(workspace: string, tenant: string): Row[] {
    return this.db.prepare('SELECT name, tenant, version, ciphertext, created_at, updated_at, updated_by FROM workspace_secrets WHERE workspace = ? AND tenant = ? ORDER BY name').all(workspace, tenant) as Row[];
  }
}

/** Plaintext size of an armored age file of one recipient, close enough for the quota (age adds 16 bytes per 64 KiB chunk). */
function plainBytesOf(armored: string): number {
  const body = armored.split('\n').filter((l) => !l.startsWith('-----')).join('');
  return Math.max(0, Math.floor((body.length * 3) / 4) - 200);
}

/** Why a decryption failed, in words that never carry key material (age-encryption's messages name the stage). */
function reason(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.length > 200 || /AGE-SECRET-KEY/i.test(m) ? 'the ciphertext is damaged or not for this identity' : m.toLowerCase();
}

/**
 * Tenant secrets of workspaces, in the hub's store: each value encrypted at rest to the hub's own age
 * recipient (an armored age file per row), so the database file never holds a plaintext. Names, versions
 * and times are what the API may show; values are decrypted only to be re-encrypted for the node that runs
 * the workspace (secret-delivery.ts). Every change is audited, never with its value.
 */
import { FoundryError } from '../../common/errors.js';
import { decryptWithIdentities, encryptToRecipients } from '../../common/secrets/age.js';
import type { HubAgeIdentity } from './hub-identity.js';
import type { SecretRow, SecretsRepo } from '../store/secrets-repo.js';

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

/** Audit sink (HubStore.audit); awaited, so a store whose audit is async works too. */
export type SecretsAuditFn = (actor: string, action: string, target?: string, details?: Record<string, unknown>) => void | Promise<void>;

/** The store of tenant secrets. */
export class WorkspaceSecrets {
  constructor(
    private readonly repo: SecretsRepo,
    private readonly hub: HubAgeIdentity,
    private readonly audit: SecretsAuditFn,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Sets (or replaces) a secret of `tenant`'s workspace; returns its new version. */
  async set(workspace: string, tenant: string, name: string, value: Uint8Array, actor: string): Promise<{ version: number; created: boolean }> {
    if (!SECRET_NAME.test(name)) throw new FoundryError('BAD_REQUEST', `secret name ${JSON.stringify(name.slice(0, 80))}: use lowercase letters, digits and '-', at most 63, starting and ending with a letter or digit (a template's secrets[].name refers to it)`, { resource: name.slice(0, 80) });
    if (value.length === 0) throw new FoundryError('BAD_REQUEST', `secret ${workspace}/${name}: the value is empty`, { resource: `${workspace}/${name}` });
    if (value.length > SECRET_LIMITS.maxValueBytes) throw new FoundryError('BAD_REQUEST', `secret ${workspace}/${name}: the value has ${value.length} bytes, at most ${SECRET_LIMITS.maxValueBytes} are allowed`, { resource: `${workspace}/${name}` });
    const ciphertext = await encryptToRecipients(value, [this.hub.recipient]);
    // The quota is judged in the repository's transaction, on the rows as they are when the secret is written.
    const admit = (others: SecretRow[]): void => {
      if (others.length + 1 > SECRET_LIMITS.maxPerWorkspace) throw new FoundryError('BAD_REQUEST', `workspace ${workspace} already has ${others.length} secrets, at most ${SECRET_LIMITS.maxPerWorkspace} are allowed`, { resource: workspace });
      const bytes = others.reduce((s, r) => s + plainBytesOf(r.ciphertext), 0);
      if (bytes + value.length > SECRET_LIMITS.maxTotalBytes) throw new FoundryError('BAD_REQUEST', `workspace ${workspace}: its secrets would hold ${bytes + value.length} bytes, at most ${SECRET_LIMITS.maxTotalBytes} are allowed`, { resource: workspace });
    };
    const result = await this.repo.put({ workspace, tenant, name, ciphertext, at: this.now().toISOString(), actor }, admit);
    await this.audit(actor, result.created ? 'workspace.secret.create' : 'workspace.secret.replace', `${workspace}/${name}`, { tenant, version: result.version });
    return result;
  }

  /** The secrets of `tenant`'s workspace: names, versions and times, sorted by name. */
  async list(workspace: string, tenant: string): Promise<SecretListing[]> {
    return (await this.repo.list(workspace, tenant)).map((r) => ({ name: r.name, version: r.version, createdAt: r.createdAt, updatedAt: r.updatedAt, updatedBy: r.updatedBy }));
  }

  /** Deletes a secret; false when there was none. */
  async remove(workspace: string, tenant: string, name: string, actor: string): Promise<boolean> {
    const gone = await this.repo.remove(workspace, tenant, name);
    if (gone) await this.audit(actor, 'workspace.secret.delete', `${workspace}/${name}`, { tenant });
    return gone;
  }

  /** Deletes every secret of a workspace (the workspace was deleted); returns how many. */
  async removeAll(workspace: string, tenant: string, actor: string): Promise<number> {
    const n = await this.repo.removeAll(workspace, tenant);
    if (n > 0) await this.audit(actor, 'workspace.secret.delete-all', workspace, { tenant, count: n });
    return n;
  }

  /** `name:version` of each secret of the workspace, sorted: changes when any secret changes. */
  async fingerprint(workspace: string, tenant: string): Promise<string> {
    return (await this.repo.list(workspace, tenant)).map((r) => `${r.name}:${r.version}`).join(',');
  }

  /** Decrypts each secret of the workspace with the hub's identity; a damaged one is an error naming it. */
  async open(workspace: string, tenant: string): Promise<OpenedSecret[]> {
    const out: OpenedSecret[] = [];
    for (const r of await this.repo.list(workspace, tenant)) {
      try {
        out.push({ name: r.name, version: r.version, value: await decryptWithIdentities(r.ciphertext, [this.hub.identity]) });
      } catch (err) {
        out.push({ name: r.name, version: r.version, error: `secret ${workspace}/${r.name} (version ${r.version}) in the hub's store cannot be decrypted with the hub's age identity: ${reason(err)}` });
      }
    }
    return out;
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

/**
 * The hub's volume keys (SQLite, migration 52): 32 random bytes per encrypted volume, generated the
 * first time the node a workspace is placed on asks, stored only as an age file encrypted to the hub's
 * own recipient. Destroying a workspace's keys deletes the rows (SQLite secure_delete overwrites the freed
 * pages) and writes the audit log; what is destroyed is never readable again from this store.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { FoundryError } from '../../common/errors.js';
import { decryptWithIdentities, encryptToRecipients } from '../../common/secrets/age.js';
import { VOLUME_KEY_BYTES, volumeKeyId, type VolumeKeyRef } from '../../common/volumes/volume-key-ref.js';
import type { HubAgeIdentity } from '../secrets/hub-identity.js';

/** A key row as listed: never the key. */
export interface VolumeKeyListing extends VolumeKeyRef {
  tenant: string;
  reclaim: 'Retain' | 'Delete';
  createdAt: string;
  createdForNode: string;
}

/** Audit sink (HubStore.audit). */
export type AuditFn = (actor: string, action: string, target?: string, details?: Record<string, unknown>) => void;

/** Stores, opens and destroys volume keys. */
export class VolumeKeyStore {
  constructor(
    private readonly db: Database.Database,
    private readonly identity: Pick<HubAgeIdentity, 'identity' | 'recipient'>,
    private readonly audit: AuditFn,
    private readonly now: () => Date = () => new Date(),
  ) {
    // Deleted rows are overwritten with zeros in the file, not just unlinked from the b-tree.
    db.pragma('secure_delete = ON');
  }

  /** The key of `ref`, created (and audited) when missing; the row's tenant and reclaim policy follow the workspace. */
  async open(ref: VolumeKeyRef, owner: { tenant: string; reclaim: 'Retain' | 'Delete'; node: string }): Promise<Buffer> {
    const row = this.db.prepare('SELECT wrapped FROM volume_keys WHERE workspace = ? AND kind = ? AND name = ?').get(ref.workspace, ref.kind, ref.name) as { wrapped: string } | undefined;
    if (row !== undefined) {
      this.db.prepare('UPDATE volume_keys SET tenant = ?, reclaim = ? WHERE workspace = ? AND kind = ? AND name = ?').run(owner.tenant, owner.reclaim, ref.workspace, ref.kind, ref.name);
      try {
        return Buffer.from(await decryptWithIdentities(row.wrapped, [this.identity.identity]));
      } catch {
        throw new FoundryError('STORE', `volume key ${volumeKeyId(ref)} cannot be decrypted with the hub's identity`, { resource: volumeKeyId(ref), retry: 'wait' });
      }
    }
    const key = randomBytes(VOLUME_KEY_BYTES);
    const wrapped = await encryptToRecipients(key, [this.identity.recipient]);
    const inserted = this.db
      .prepare('INSERT OR IGNORE INTO volume_keys (workspace, kind, name, tenant, reclaim, wrapped, created_at, created_for_node) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(ref.workspace, ref.kind, ref.name, owner.tenant, owner.reclaim, wrapped, this.now().toISOString(), owner.node).changes;
    // Another request created it meanwhile: theirs wins, so every node gets the same key.
    if (inserted === 0) return this.open(ref, owner);
    this.audit('hub', 'volume-key.create', volumeKeyId(ref), { tenant: owner.tenant, node: owner.node });
    return key;
  }

  /** Every key row, without keys. */
  list(): VolumeKeyListing[] {
    const rows = this.db.prepare('SELECT workspace, kind, name, tenant, reclaim, created_at, created_for_node FROM volume_keys ORDER BY workspace, kind, name').all() as Array<Record<string, string>>;
    return rows.map((r) => ({ workspace: r.workspace!, kind: r.kind as VolumeKeyRef['kind'], name: r.name!, tenant: r.tenant!, reclaim: r.reclaim as 'Retain' | 'Delete', createdAt: r.created_at!, createdForNode: r.created_for_node! }));
  }

  /** The node a workspace's keys were made for (where its encrypted data lives), or undefined when it has none. */
  homeNode(workspace: string): string | undefined {
    return (this.db.prepare('SELECT created_for_node FROM volume_keys WHERE workspace = ? LIMIT 1').get(workspace) as { created_for_node: string } | undefined)?.created_for_node;
  }

  /** Records a workspace's current tenant and reclaim policy on its keys. */
  setOwner(workspace: string, tenant: string, reclaim: 'Retain' | 'Delete'): void {
    this.db.prepare('UPDATE volume_keys SET tenant = ?, reclaim = ? WHERE workspace = ?').run(tenant, reclaim, workspace);
  }

  /** Destroys every key of `workspace` and audits it (`why` says what triggered it); returns how many. */
  destroyWorkspace(workspace: string, actor: string, why: string): number {
    const keys = this.db.prepare('SELECT kind, name FROM volume_keys WHERE workspace = ?').all(workspace) as Array<{ kind: string; name: string }>;
    if (keys.length === 0) return 0;
    this.db.prepare('DELETE FROM volume_keys WHERE workspace = ?').run(workspace);
    this.audit(actor, 'volume-key.destroy', workspace, { keys: keys.map((k) => `${k.kind}/${k.name}`), why });
    return keys.length;
  }
}

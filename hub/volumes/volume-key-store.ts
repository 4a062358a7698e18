/**
 * The hub's volume keys (hub/store/volume-keys-repo.ts, migration 52): 32 random bytes per encrypted
 * volume, generated the first time the node a workspace is placed on asks, stored only as an age file
 * encrypted to the hub's own recipient. Destroying a workspace's keys deletes the rows (on SQLite
 * secure_delete overwrites the freed pages; on PostgreSQL only the wrapped key may linger on disk, see the
 * repository) and writes the audit log; what is destroyed is never readable again from this store.
 */
import { randomBytes } from 'node:crypto';
import { FoundryError } from '../../common/errors.js';
import { decryptWithIdentities, encryptToRecipients } from '../../common/secrets/age.js';
import { VOLUME_KEY_BYTES, volumeKeyId, type VolumeKeyRef } from '../../common/volumes/volume-key-ref.js';
import type { HubAgeIdentity } from '../secrets/hub-identity.js';
import type { VolumeKeyRow, VolumeKeysRepo } from '../store/volume-keys-repo.js';

/** A key row as listed: never the key. */
export type VolumeKeyListing = VolumeKeyRow;

/** Audit sink (HubStore.audit); awaited, so a store whose audit is async works too. */
export type AuditFn = (actor: string, action: string, target?: string, details?: Record<string, unknown>) => void | Promise<void>;

/** Stores, opens and destroys volume keys. */
export class VolumeKeyStore {
  constructor(
    private readonly repo: VolumeKeysRepo,
    private readonly identity: Pick<HubAgeIdentity, 'identity' | 'recipient'>,
    private readonly audit: AuditFn,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The key of `ref`, created (and audited) when missing; the row's tenant and reclaim policy follow the workspace. */
  async open(ref: VolumeKeyRef, owner: { tenant: string; reclaim: 'Retain' | 'Delete'; node: string }): Promise<Buffer> {
    const wrapped = await this.repo.claim(ref, owner);
    if (wrapped !== undefined) {
      try {
        return Buffer.from(await decryptWithIdentities(wrapped, [this.identity.identity]));
      } catch {
        throw new FoundryError('STORE', `volume key ${volumeKeyId(ref)} cannot be decrypted with the hub's identity`, { resource: volumeKeyId(ref), retry: 'wait' });
      }
    }
    const key = randomBytes(VOLUME_KEY_BYTES);
    const fresh = await encryptToRecipients(key, [this.identity.recipient]);
    // Another request (or replica) created it meanwhile: theirs wins, so every node gets the same key.
    if (!(await this.repo.insert(ref, owner, fresh, this.now().toISOString(), owner.node))) return this.open(ref, owner);
    await this.audit('hub', 'volume-key.create', volumeKeyId(ref), { tenant: owner.tenant, node: owner.node });
    return key;
  }

  /** Every key row, without keys. */
  list(): Promise<VolumeKeyListing[]> {
    return this.repo.list();
  }

  /** The node a workspace's keys were made for (where its encrypted data lives), or undefined when it has none. */
  homeNode(workspace: string): Promise<string | undefined> {
    return this.repo.homeNode(workspace);
  }

  /** Records a workspace's current tenant and reclaim policy on its keys. */
  setOwner(workspace: string, tenant: string, reclaim: 'Retain' | 'Delete'): Promise<void> {
    return this.repo.setOwner(workspace, { tenant, reclaim });
  }

  /** Destroys every key of `workspace` and audits it (`why` says what triggered it); returns how many. */
  async destroyWorkspace(workspace: string, actor: string, why: string): Promise<number> {
    const keys = await this.repo.destroyWorkspace(workspace);
    if (keys.length === 0) return 0;
    await this.audit(actor, 'volume-key.destroy', workspace, { keys: keys.map((k) => `${k.kind}/${k.name}`), why });
    return keys.length;
  }
}

/**
 * Volume keys (migration 52): one row per encrypted volume, the key wrapped (an age file encrypted to the
 * hub's recipient; hub/volumes/volume-key-store.ts wraps and unwraps), with the workspace's tenant and
 * reclaim policy as last seen and the node it was made for.
 *
 * Erasure: on SQLite the connection runs with `secure_delete = ON`, so a destroyed row's bytes are
 * overwritten with zeros in the database file (and in the WAL once checkpointed). PostgreSQL has no
 * equivalent: a DELETE leaves the old tuple in its heap page until the page's space is reused, and
 * VACUUM (FULL included) frees or rewrites pages without scrubbing them; WAL segments, archives, standbys
 * and base backups keep copies for as long as they are retained. What remains there is only the wrapped
 * key, readable with the hub's age identity: destroying a key on PostgreSQL is a promise of this store,
 * not an erasure of the disk.
 */
import type { Sql } from './sql/sql.js';

/** Which volume: the workspace and its volume (or VM disk). */
export interface VolumeKeyId {
  workspace: string;
  kind: 'volume' | 'vm-disk';
  name: string;
}

/** The workspace's tenant and reclaim policy as last seen. */
export interface VolumeKeyOwner {
  tenant: string;
  reclaim: 'Retain' | 'Delete';
}

/** A key row without its key. */
export interface VolumeKeyRow extends VolumeKeyId, VolumeKeyOwner {
  createdAt: string;
  createdForNode: string;
}

/** Storage of wrapped volume keys. */
export interface VolumeKeysRepo {
  /** Records `owner` on the key of `id` and returns its wrapped key; undefined when there is none. */
  claim(id: VolumeKeyId, owner: VolumeKeyOwner): Promise<string | undefined>;
  /** Stores a new wrapped key; false when one exists already (another request made it first: it wins). */
  insert(id: VolumeKeyId, owner: VolumeKeyOwner, wrapped: string, createdAt: string, node: string): Promise<boolean>;
  /** Every key row, by workspace, kind and name. */
  list(): Promise<VolumeKeyRow[]>;
  /** The node a workspace's keys were made for, or undefined when it has none. */
  homeNode(workspace: string): Promise<string | undefined>;
  /** Records a workspace's current tenant and reclaim policy on all its keys. */
  setOwner(workspace: string, owner: VolumeKeyOwner): Promise<void>;
  /** Deletes (and on SQLite overwrites) every key of a workspace; returns the keys deleted, by kind and name. */
  destroyWorkspace(workspace: string): Promise<Array<Pick<VolumeKeyId, 'kind' | 'name'>>>;
}

/** VolumeKeysRepo over the Sql interface. */
export class SqlVolumeKeysRepo implements VolumeKeysRepo {
  /** Settles once SQLite's secure_delete is on (at once on PostgreSQL). */
  private readonly scrubbing: Promise<void>;

  constructor(private readonly sql: Sql) {
    // Deleted rows are overwritten with zeros in the file, not just unlinked from the b-tree (the pragma
    // holds for the whole connection: other tables' deletes are scrubbed too).
    this.scrubbing = sql.dialect === 'sqlite' ? sql.script('PRAGMA secure_delete = ON') : Promise.resolve();
    // a failure surfaces at the first destroy, not as an unhandled rejection
    this.scrubbing.catch(() => undefined);
  }

  async claim(id: VolumeKeyId, owner: VolumeKeyOwner): Promise<string | undefined> {
    const row = await this.sql.get<{ wrapped: string }>('UPDATE volume_keys SET tenant = ?, reclaim = ? WHERE workspace = ? AND kind = ? AND name = ? RETURNING wrapped', [owner.tenant, owner.reclaim, id.workspace, id.kind, id.name]);
    return row?.wrapped;
  }

  async insert(id: VolumeKeyId, owner: VolumeKeyOwner, wrapped: string, createdAt: string, node: string): Promise<boolean> {
    const r = await this.sql.run(
      'INSERT INTO volume_keys (workspace, kind, name, tenant, reclaim, wrapped, created_at, created_for_node) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (workspace, kind, name) DO NOTHING',
      [id.workspace, id.kind, id.name, owner.tenant, owner.reclaim, wrapped, createdAt, node],
    );
    return r.changes === 1;
  }

  list(): Promise<VolumeKeyRow[]> {
    return this.sql.all<VolumeKeyRow>('SELECT workspace, kind, name, tenant, reclaim, created_at AS "createdAt", created_for_node AS "createdForNode" FROM volume_keys ORDER BY workspace, kind, name');
  }

  async homeNode(workspace: string): Promise<string | undefined> {
    return (await this.sql.get<{ node: string }>('SELECT created_for_node AS node FROM volume_keys WHERE workspace = ? LIMIT 1', [workspace]))?.node;
  }

  async setOwner(workspace: string, owner: VolumeKeyOwner): Promise<void> {
    await this.sql.run('UPDATE volume_keys SET tenant = ?, reclaim = ? WHERE workspace = ?', [owner.tenant, owner.reclaim, workspace]);
  }

  async destroyWorkspace(workspace: string): Promise<Array<Pick<VolumeKeyId, 'kind' | 'name'>>> {
    await this.scrubbing;
    const gone = await this.sql.all<Pick<VolumeKeyId, 'kind' | 'name'>>('DELETE FROM volume_keys WHERE workspace = ? RETURNING kind, name', [workspace]);
    // RETURNING has no order: the primary key's
    return gone.sort((a, b) => (a.kind === b.kind ? cmp(a.name, b.name) : cmp(a.kind, b.kind)));
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

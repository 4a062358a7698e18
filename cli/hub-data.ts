/**
 * The hub's data dir as the admin commands (`hub node|token|user|invoice|admin-token`) use it. The hub's
 * modules are imported when a command runs, not when the CLI starts: `foundry agent run` is the same
 * binary, and a node agent must not carry the hub's code in its memory.
 */
import { join } from 'node:path';
import type { HubStore } from '../hub/store/hub-store.js';

/** Where `foundry hub start` keeps hub.db and the hosted repo unless told otherwise: FOUNDRY_HUB_DATA_DIR (set by install-hub.sh's launcher), else .foundry/hub. */
export const DEFAULT_DATA_DIR = process.env.FOUNDRY_HUB_DATA_DIR || join('.foundry', 'hub');

/**
 * Opens hub.db in the data dir, runs fn, and closes the store whatever happens. A database of an older
 * release is backed up before it is migrated, as `hub start` does; a newer one is refused.
 */
export async function withHubStore<T>(dataDir: string, fn: (store: HubStore) => Promise<T> | T): Promise<T> {
  const { HubStore: Store } = await import('../hub/store/hub-store.js');
  const { readDatabaseUrl } = await import('../hub/store/database-url.js');
  // A hub on PostgreSQL: its maintenance commands name the same database (FOUNDRY_HUB_DATABASE_URL).
  const url = readDatabaseUrl(undefined, process.env.FOUNDRY_HUB_DATABASE_URL);
  if (url === undefined) {
    const { upgradeStore } = await import('../hub/store/upgrade.js');
    await upgradeStore(join(dataDir, 'hub.db'));
  }
  const store = await Store.open(url ?? join(dataDir, 'hub.db'));
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

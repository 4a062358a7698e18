/**
 * Fetches the agent's volume keys from the hub: asks for the keys the drivers missed (the keyring's
 * wanted list) right away and again on every reconnect, decrypts what comes back with the node's age
 * identity into the in-memory keyring, keeps the hub's reasons for refused keys (they appear in the
 * resource's condition), forgets the keys of workspaces the hub destroyed, and triggers a reconcile when
 * new keys arrived. No person is needed after an agent restart or a reboot.
 */
import { decryptWithIdentities } from '../../common/secrets/age.js';
import { errorMessage } from '../../common/errors.js';
import { VOLUME_KEY_BYTES, type VolumeKeyRef } from '../../common/volumes/volume-key-ref.js';
import type { HubVolumeKeys } from '../link/hub-link.js';
import type { VolumeKeyring } from './keyring.js';

/** What the client needs from the hub link. */
export interface KeyLink {
  requestVolumeKeys(body: { keys: VolumeKeyRef[] }): boolean;
  on(event: 'connected', fn: () => void): unknown;
}

/** Collaborators of VolumeKeyClient. */
export interface VolumeKeyClientDeps {
  keys: VolumeKeyring;
  link: KeyLink;
  /** The node's age identity (AGE-SECRET-KEY-1...). */
  identity: string;
  /** Called when keys arrived (reconcile now). */
  onKeys: () => void;
  log: { warn(obj: object, msg?: string): void; info(obj: object, msg?: string): void };
}

/** Keeps the keyring filled from the hub. */
export class VolumeKeyClient {
  private scheduled = false;

  constructor(private readonly deps: VolumeKeyClientDeps) {
    deps.keys.onWanted(() => this.schedule());
    deps.link.on('connected', () => this.schedule());
  }

  /** Handles a volume-keys message: stores keys, records refusals, forgets destroyed workspaces. */
  async handle(body: HubVolumeKeys): Promise<void> {
    const { keys, log } = this.deps;
    for (const w of body.forget ?? []) {
      const n = keys.forgetWorkspace(w);
      log.info({ event: 'volume-keys-forgotten', workspace: w, keys: n }, `the hub destroyed the volume keys of workspace ${w}`);
    }
    let added = 0;
    for (const k of body.keys) {
      const ref: VolumeKeyRef = { workspace: k.workspace, kind: k.kind, name: k.name };
      try {
        const key = Buffer.from(await decryptWithIdentities(k.ciphertext, [this.deps.identity]));
        if (key.length !== VOLUME_KEY_BYTES) throw new Error(`a volume key has ${VOLUME_KEY_BYTES} bytes, this one ${key.length}`);
        keys.set(ref, key);
        key.fill(0);
        added++;
      } catch (err) {
        keys.refuse(ref, `the key from the hub cannot be used: ${errorMessage(err)}`);
      }
    }
    for (const r of body.refused ?? []) keys.refuse({ workspace: r.workspace, kind: r.kind, name: r.name }, `the hub refused it: ${r.reason}`);
    if ((body.refused ?? []).length > 0) log.warn({ event: 'volume-keys-refused', refused: body.refused }, 'the hub refused volume keys');
    if (added > 0) this.deps.onKeys();
  }

  /** One request per burst of misses (a reconcile misses several keys at once). */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const wanted = this.deps.keys.wanted();
      for (let i = 0; i < wanted.length; i += 256) this.deps.link.requestVolumeKeys({ keys: wanted.slice(i, i + 256) });
    });
  }
}

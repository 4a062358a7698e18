/**
 * Hands volume keys to nodes and destroys them. A node gets the key of a volume only when the workspace
 * is placed on it at the branch tip and its template encrypts that volume; the key travels as an age file
 * encrypted to the recipient the node registered (enrollment, hello). Keys of workspaces gone from the tip
 * with reclaimPolicy Delete, and of tenants gone from it, are destroyed (reap), and every connected node is
 * told to forget them. Decisions are pure (decide); only answer/reap touch the store.
 */
import { encryptToRecipients } from '../../common/secrets/age.js';
import { errorMessage } from '../../common/errors.js';
import type { InfraRepo } from '../../common/infra/model.js';
import type { VolumeKeysMessage, VolumeKeysRequestMessage } from '../../common/protocol/codec.js';
import { encryptedKeyRefs } from '../../common/volumes/encrypted-refs.js';
import { volumeKeyId, type VolumeKeyRef } from '../../common/volumes/volume-key-ref.js';
import type { VolumeKeyListing, VolumeKeyStore } from './volume-key-store.js';

/** What the hub decides for one requested key. */
export type KeyDecision = { ok: true; ref: VolumeKeyRef; tenant: string; reclaim: 'Retain' | 'Delete'; dataOnMove: 'refuse' | 'drop' } | { ok: false; ref: VolumeKeyRef; reason: string };

/** Whether `node` may have the key of `ref` at `repo`'s tip, and why not. Pure. */
export function decide(repo: InfraRepo, node: string, ref: VolumeKeyRef): KeyDecision {
  const ws = repo.workspaces.get(ref.workspace)?.doc;
  if (ws === undefined) return { ok: false, ref, reason: `workspace ${ref.workspace} is not declared at the branch tip` };
  if (ws.spec.node !== node) return { ok: false, ref, reason: ws.spec.node === undefined ? `workspace ${ref.workspace} is not placed yet` : `workspace ${ref.workspace} is placed on node ${ws.spec.node}, not on ${node}` };
  const template = repo.templates.get(ws.spec.template)?.doc;
  const wanted = template === undefined ? [] : encryptedKeyRefs(ref.workspace, template);
  if (!wanted.some((r) => volumeKeyId(r) === volumeKeyId(ref))) return { ok: false, ref, reason: `template ${ws.spec.template} has no encrypted ${ref.kind} ${ref.name}` };
  return { ok: true, ref, tenant: ws.spec.tenant, reclaim: ws.spec.reclaimPolicy ?? 'Retain', dataOnMove: template?.spec.dataOnMove ?? 'refuse' };
}

/**
 * A workspace whose keys were made for another node has moved: its encrypted data stays on `home`, where
 * no other node can read it. Refused unless the template says dataOnMove: drop (then the old keys are
 * destroyed and the workspace starts empty here). Pure: undefined when the key may be given.
 */
export function moveRefusal(workspace: string, home: string | undefined, node: string, dataOnMove: 'refuse' | 'drop'): string | undefined {
  if (home === undefined || home === node || dataOnMove === 'drop') return undefined;
  return `workspace ${workspace} moved from node ${home} to ${node}, but its encrypted volumes are local to ${home} and its template says dataOnMove: refuse; place it back on ${home}, or set dataOnMove: drop in the template to start empty here (the data on ${home} is then erased with its keys)`;
}

/** Workspaces whose keys must be destroyed at `repo`'s tip: gone with reclaim Delete, or their tenant gone. Pure. */
export function keysToDestroy(repo: InfraRepo, rows: ReadonlyArray<{ workspace: string; tenant: string; reclaim: 'Retain' | 'Delete' }>): Array<{ workspace: string; why: string }> {
  const out = new Map<string, string>();
  for (const r of rows) {
    if (out.has(r.workspace)) continue;
    if (!repo.tenants.has(r.tenant)) out.set(r.workspace, `tenant ${r.tenant} was deleted`);
    else if (!repo.workspaces.has(r.workspace) && r.reclaim === 'Delete') out.set(r.workspace, 'workspace deleted with reclaimPolicy Delete');
  }
  return [...out].map(([workspace, why]) => ({ workspace, why }));
}

/** Collaborators of the service. */
export interface VolumeKeyServiceDeps {
  keys: VolumeKeyStore;
  /** The infra repo at the branch tip. */
  repo: () => Promise<InfraRepo>;
  /** The node's registered age recipient. */
  recipientOf: (node: string) => string | undefined | Promise<string | undefined>;
  /** Sends a volume-keys frame to a connected node (the forget list after a destruction). */
  send: (node: string, body: VolumeKeysMessage['body']) => void;
  connected: () => string[];
  log: { warn(obj: object, msg?: string): void; info(obj: object, msg?: string): void };
}

/** Answers nodes' key requests and destroys keys. */
export class VolumeKeyService {
  constructor(private readonly deps: VolumeKeyServiceDeps) {}

  /** The answer to one request of `node`: keys it may have (encrypted to it), the others refused with why. */
  async answer(node: string, body: VolumeKeysRequestMessage['body']): Promise<VolumeKeysMessage['body']> {
    const refs: VolumeKeyRef[] = body.keys.map((k) => ({ workspace: k.workspace, kind: k.kind, name: k.name }));
    const recipient = await this.deps.recipientOf(node);
    if (recipient === undefined) return { node, keys: [], refused: refs.map((ref) => ({ ...ref, reason: `the hub knows no age recipient of node ${node} (re-enroll it, or upgrade its agent)` })) };
    const repo = await this.deps.repo();
    const reply: VolumeKeysMessage['body'] = { node, keys: [], refused: [] };
    for (const d of refs.map((ref) => decide(repo, node, ref))) {
      if (!d.ok) {
        reply.refused!.push({ ...d.ref, reason: d.reason });
        continue;
      }
      const home = await this.deps.keys.homeNode(d.ref.workspace);
      const refusal = moveRefusal(d.ref.workspace, home, node, d.dataOnMove);
      if (refusal !== undefined) {
        reply.refused!.push({ ...d.ref, reason: refusal });
        continue;
      }
      // Moved with dataOnMove: drop: the old node's data is erased by destroying its keys first.
      if (home !== undefined && home !== node) await this.destroyNow(d.ref.workspace, 'hub', `moved from node ${home} to ${node} with dataOnMove: drop`);
      try {
        const key = await this.deps.keys.open(d.ref, { tenant: d.tenant, reclaim: d.reclaim, node });
        reply.keys.push({ ...d.ref, ciphertext: await encryptToRecipients(key, [recipient]) });
        key.fill(0);
      } catch (err) {
        reply.refused!.push({ ...d.ref, reason: errorMessage(err) });
      }
    }
    return reply;
  }

  /**
   * Destroys keys `keysToDestroy` names at the tip (audited with `actor`), then tells every connected
   * node to forget them. Returns the workspaces whose keys were destroyed.
   */
  async reap(actor: string, repo?: InfraRepo): Promise<string[]> {
    const tip = repo ?? (await this.deps.repo());
    const rows = await this.refreshOwners(tip);
    const gone = keysToDestroy(tip, rows);
    for (const g of gone) await this.deps.keys.destroyWorkspace(g.workspace, actor, g.why);
    this.forgetEverywhere(gone.map((g) => g.workspace));
    return gone.map((g) => g.workspace);
  }

  /**
   * Records on the key rows the tenant and reclaim policy the tip gives each workspace still declared (an
   * admin may have set reclaimPolicy Delete since the key was last asked for); returns the rows. The API's
   * delete calls it before removing the file, so the policy of the last revision that had it counts.
   */
  async refreshOwners(tip: InfraRepo): Promise<VolumeKeyListing[]> {
    const rows = await this.deps.keys.list();
    for (const r of rows) {
      const ws = tip.workspaces.get(r.workspace)?.doc;
      if (ws === undefined) continue;
      const reclaim = ws.spec.reclaimPolicy ?? 'Retain';
      if (ws.spec.tenant !== r.tenant || reclaim !== r.reclaim) await this.deps.keys.setOwner(r.workspace, ws.spec.tenant, reclaim);
      r.tenant = ws.spec.tenant;
      r.reclaim = reclaim;
    }
    return rows;
  }

  /** How many keys `workspace` has. */
  async countOf(workspace: string): Promise<number> {
    return (await this.deps.keys.list()).filter((k) => k.workspace === workspace).length;
  }

  /** refreshOwners at the branch tip now. */
  async refresh(): Promise<void> {
    await this.refreshOwners(await this.deps.repo());
  }

  /** Destroys a workspace's keys now (the API deletes it with reclaimPolicy Delete): before its file leaves Git. */
  async destroyNow(workspace: string, actor: string, why: string): Promise<number> {
    const n = await this.deps.keys.destroyWorkspace(workspace, actor, why);
    if (n > 0) this.forgetEverywhere([workspace]);
    return n;
  }

  private forgetEverywhere(workspaces: string[]): void {
    if (workspaces.length === 0) return;
    for (const node of this.deps.connected()) this.deps.send(node, { node, keys: [], forget: workspaces });
    this.deps.log.info({ workspaces }, 'volume keys destroyed; connected nodes told to forget them');
  }
}

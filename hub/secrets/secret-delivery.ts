/**
 * Delivers tenant secrets to exactly the node that runs each workspace. For every connected node it
 * computes, from the placements at the branch tip, which workspaces (with secrets) are placed there, and
 * sends what changed since the last message to that node: one `secrets` frame per changed workspace, its
 * values decrypted with the hub's identity and re-encrypted to that node's age recipient only, each frame
 * carrying the complete list of workspaces the node keeps (so a node a workspace moved away from drops
 * its secrets, and is never sent a later version). Level-triggered: connect, a secret change, a new
 * revision and a periodic tick all run the same pass.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { SecretsMessage } from '../../common/protocol/codec.js';
import { errorMessage } from '../../common/errors.js';
import { encryptToRecipients } from '../../common/secrets/age.js';
import type { WorkspaceSecrets } from './workspace-secrets.js';

/** Where workspaces are placed at the branch tip. */
export interface PlacementView {
  revision: string;
  workspaces: ReadonlyArray<{ name: string; tenant: string; node: string | undefined }>;
}

/** Collaborators of SecretDelivery. */
export interface SecretDeliveryDeps {
  secrets: WorkspaceSecrets;
  /** Placements at the branch tip; `fresh` asks for the tip now instead of the last read. */
  placements: (fresh: boolean) => Promise<PlacementView>;
  /** The node's age recipient, or undefined when the hub knows none (nothing can be delivered to it). */
  recipientOf: (node: string) => string | undefined | Promise<string | undefined>;
  /** Sends a frame to a connected node; false when it is not connected. */
  send: (node: string, body: SecretsMessage['body']) => boolean;
  connected: () => string[];
  log: FastifyBaseLogger;
  /** Called once per (workspace, secret, version) the hub cannot decrypt (audit). */
  onUnreadable?: (workspace: string, name: string, version: number) => void;
}

/** Keeps each connected node's workspace secrets equal to what is placed on it. */
export class SecretDelivery {
  /** Per node: workspace → `name:version,...` last sent (absent: nothing sent since it connected). */
  private readonly sent = new Map<string, Map<string, string>>();
  private readonly unreadable = new Set<string>();
  private readonly missingRecipient = new Set<string>();
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: SecretDeliveryDeps) {}

  /** A node connected: it gets its full set (its agent may have restarted and hold nothing). */
  connected(node: string): Promise<void> {
    this.sent.delete(node);
    return this.reconcile(false, [node]);
  }

  /** A node went away: whatever it held is resent in full when it is back. */
  disconnected(node: string): void {
    this.sent.delete(node);
  }

  /** One pass (serialized with the others): `fresh` reads the tip now (after a secret or placement change). */
  reconcile(fresh: boolean, only?: readonly string[]): Promise<void> {
    const run = this.tail.then(() => this.pass(fresh, only));
    this.tail = run.catch((err: unknown) => this.deps.log.warn({ err: errorMessage(err) }, 'secret delivery pass failed'));
    return run;
  }

  private async pass(fresh: boolean, only?: readonly string[]): Promise<void> {
    const view = await this.deps.placements(fresh);
    const nodes = this.deps.connected().filter((n) => only === undefined || only.includes(n));
    for (const node of nodes) {
      const want = new Map<string, { tenant: string; fp: string }>();
      for (const w of view.workspaces) {
        if (w.node !== node) continue;
        const fp = await this.deps.secrets.fingerprint(w.name, w.tenant);
        if (fp !== '') want.set(w.name, { tenant: w.tenant, fp });
      }
      const have = this.sent.get(node);
      const changed = [...want].filter(([name, w]) => have?.get(name) !== w.fp);
      const dropped = have === undefined ? [] : [...have.keys()].filter((name) => !want.has(name));
      if (have !== undefined && changed.length === 0 && dropped.length === 0) continue;
      await this.sendNode(node, view.revision, want, changed);
    }
  }

  private async sendNode(node: string, revision: string, want: Map<string, { tenant: string; fp: string }>, changed: Array<[string, { tenant: string; fp: string }]>): Promise<void> {
    const { log } = this.deps;
    const workspaces = [...want.keys()].sort();
    const recipient = changed.length === 0 ? undefined : await this.deps.recipientOf(node);
    if (changed.length > 0 && recipient === undefined) {
      if (!this.missingRecipient.has(node)) log.error({ node, workspaces: changed.map(([n]) => n) }, `node ${node} has no age recipient known to the hub: the secrets of its workspaces cannot be delivered (enroll it again, or set spec.ageRecipient in its Node file)`);
      this.missingRecipient.add(node);
    } else this.missingRecipient.delete(node);
    const sentNow = new Map<string, string>();
    for (const [name, w] of want) if (this.sent.get(node)?.get(name) === w.fp) sentNow.set(name, w.fp);
    if (recipient !== undefined) {
      for (const [name, w] of changed) {
        const secrets: NonNullable<SecretsMessage['body']['update']>['secrets'] = [];
        for (const s of await this.deps.secrets.open(name, w.tenant)) {
          if ('error' in s) {
            const key = `${name}/${s.name}:${s.version}`;
            if (!this.unreadable.has(key)) {
              this.unreadable.add(key);
              log.error({ workspace: name, secret: s.name, version: s.version }, s.error);
              this.deps.onUnreadable?.(name, s.name, s.version);
            }
            secrets.push({ name: s.name, version: s.version, unavailable: `secret ${s.name} (version ${s.version}) is damaged in the hub's store: set it again; the node keeps the value it has` });
          } else secrets.push({ name: s.name, version: s.version, ciphertext: await encryptToRecipients(s.value, [recipient]) });
        }
        if (!this.deps.send(node, { node, revision, workspaces, update: { workspace: name, secrets } })) return;
        sentNow.set(name, w.fp);
        log.info({ node, workspace: name, secrets: secrets.map((s) => `${s.name}:${s.version}`) }, 'sent workspace secrets');
      }
    }
    // The complete list (also when nothing changed but a workspace left the node): the node drops the others.
    if (changed.length === 0 || recipient === undefined) {
      if (!this.deps.send(node, { node, revision, workspaces: workspaces.filter((w) => sentNow.has(w)) })) return;
    }
    this.sent.set(node, sentNow);
  }
}

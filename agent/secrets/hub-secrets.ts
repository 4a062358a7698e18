/**
 * The agent's copy of its workspaces' tenant secrets, as the hub sends them (`secrets` messages, each
 * value age-encrypted to this node). Kept in memory only: nothing is written to disk, status or outbox,
 * and a restarted agent gets them again when it reconnects. A value that cannot be decrypted (damaged,
 * not for this node's key) or that the hub marks unavailable keeps the last good value, with an error
 * naming the workspace and the secret. `onChange` tells which workspaces' secrets changed, so the agent
 * reconciles (and recreates exactly the containers whose secrets changed).
 */
import type { HubSecrets } from '../link/hub-link.js';

/** A secret as the agent holds it. */
export interface HeldSecret {
  version: number;
  value: Uint8Array;
}

/** Collaborators of HubSecretCache. */
export interface HubSecretCacheDeps {
  /** Decrypts an armored age file with this node's identity; throws when it cannot. */
  decrypt: (armored: string) => Promise<Uint8Array>;
  /** Called with the workspaces whose secrets changed (added, replaced, removed). */
  onChange?: (workspaces: string[]) => void;
  log?: { warn(obj: object, msg?: string): void; error(obj: object, msg?: string): void; info(obj: object, msg?: string): void };
}

/** Workspace → secret name → the last good value. */
export class HubSecretCache {
  private readonly held = new Map<string, Map<string, HeldSecret>>();
  private readonly problemsBy = new Map<string, string>();
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: HubSecretCacheDeps) {}

  /** Applies one `secrets` message (serialized: messages apply in the order they came). */
  apply(body: HubSecrets): Promise<void> {
    const run = this.tail.then(() => this.applyOne(body));
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** The value of a workspace's secret, or undefined when the hub delivered none. */
  get(workspace: string, name: string): HeldSecret | undefined {
    return this.held.get(workspace)?.get(name);
  }

  /** Names and versions per workspace (never values): what the agent may log or show. */
  versions(): Record<string, Record<string, number>> {
    return Object.fromEntries([...this.held].map(([w, m]) => [w, Object.fromEntries([...m].map(([n, s]) => [n, s.version]))]));
  }

  /** Current problems, `workspace/secret` → why (a value that could not be taken; the last good one stays). */
  problems(): ReadonlyMap<string, string> {
    return this.problemsBy;
  }

  private async applyOne(body: HubSecrets): Promise<void> {
    const changed = new Set<string>();
    const keep = new Set(body.workspaces);
    for (const w of [...this.held.keys()]) {
      if (keep.has(w)) continue;
      this.held.delete(w);
      for (const k of [...this.problemsBy.keys()]) if (k.startsWith(`${w}/`)) this.problemsBy.delete(k);
      changed.add(w);
    }
    const u = body.update;
    if (u !== undefined && keep.has(u.workspace)) {
      const before = this.held.get(u.workspace) ?? new Map<string, HeldSecret>();
      const next = new Map<string, HeldSecret>();
      for (const s of u.secrets) {
        const key = `${u.workspace}/${s.name}`;
        const old = before.get(s.name);
        if (old !== undefined && old.version === s.version) {
          next.set(s.name, old);
          continue;
        }
        const value = await this.open(key, s);
        if (value !== undefined) {
          next.set(s.name, { version: s.version, value });
          this.problemsBy.delete(key);
        } else if (old !== undefined) next.set(s.name, old);
      }
      const sig = (m: Map<string, HeldSecret>): string => [...m].map(([n, s]) => `${n}:${s.version}`).sort().join(',');
      if (sig(before) !== sig(next)) changed.add(u.workspace);
      if (next.size > 0) this.held.set(u.workspace, next);
      else this.held.delete(u.workspace);
    }
    if (changed.size > 0) {
      this.deps.log?.info({ workspaces: [...changed].sort(), versions: this.versions() }, 'workspace secrets changed');
      this.deps.onChange?.([...changed].sort());
    }
  }

  /** Decrypts one delivered secret, or records why it could not (undefined). */
  private async open(key: string, s: NonNullable<HubSecrets['update']>['secrets'][number]): Promise<Uint8Array | undefined> {
    let why: string;
    if (s.ciphertext === undefined) why = s.unavailable ?? 'the hub sent no value';
    else {
      try {
        return await this.deps.decrypt(s.ciphertext);
      } catch (err) {
        const m = err instanceof Error ? err.message : String(err);
        why = `cannot decrypt version ${s.version} with this node's age identity (${m.length > 160 ? 'damaged or not for this node' : m.toLowerCase()})`;
      }
    }
    const message = `workspace secret ${key}: ${why}; the last good value stays in use`;
    if (this.problemsBy.get(key) !== message) this.deps.log?.error({ secret: key, version: s.version }, message);
    this.problemsBy.set(key, message);
    return undefined;
  }
}

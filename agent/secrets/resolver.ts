/**
 * The agent's interface to secret values: a SecretResolver per source (`repo`: age files of the infra
 * repo, decrypted with the node's key; `workspace`: tenant secrets the hub delivers). A resolver answers
 * a value or a problem that names the secret and the file, never throws for bad input, and never puts a
 * value anywhere but in its answer.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import type { InfraRepo } from '../../common/infra/model.js';
import type { Owner, RuntimeSecret } from '../desired.js';
import { runtimeSecretPrefix } from '../drivers/driver.js';

/** What a resolver may read for one run. */
export interface SecretContext {
  /** The validated revision the desired state was rendered from; undefined when it was restored from last-good.json (no files at hand). */
  repo: InfraRepo | undefined;
  /** The folder holding that revision's files. */
  dir: string | undefined;
}

/** A value, or why there is none (the message names the secret and, for repo secrets, the file). */
export type SecretResult = { value: Uint8Array } | { problem: string; file?: string };

/** Resolves the secrets of one source. */
export interface SecretResolver {
  readonly source: RuntimeSecret['source'];
  /** The value of `ref` for the workload of `owner`. Never throws for bad input: answers a problem. */
  resolve(owner: Owner, ref: RuntimeSecret, ctx: SecretContext): Promise<SecretResult>;
}

/** The resolvers of every source the agent knows, by source; a source without one answers a problem. */
export class SecretResolvers {
  private readonly bySource = new Map<string, SecretResolver>();

  constructor(resolvers: SecretResolver[] = []) {
    for (const r of resolvers) this.add(r);
  }

  /** Adds (or replaces) the resolver of a source. */
  add(resolver: SecretResolver): void {
    this.bySource.set(resolver.source, resolver);
  }

  /** Resolves `ref` with the resolver of its source. */
  async resolve(owner: Owner, ref: RuntimeSecret, ctx: SecretContext): Promise<SecretResult> {
    const r = this.bySource.get(ref.source);
    if (r === undefined) return { problem: `secret ${ref.name} (source ${ref.source}): this agent has no ${ref.source} secret source` };
    try {
      return await r.resolve(owner, ref, ctx);
    } catch (err) {
      return { problem: `secret ${ref.name}: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
}

/** The key of the digests, derived from the node's identity: node-local, so a digest on a label cannot be used to guess a short value elsewhere. */
export function digestKey(nodeIdentity: string): Buffer {
  return Buffer.from(hkdfSync('sha256', nodeIdentity, 'foundry.cloud', 'secret digest v1', 32));
}

/** HMAC-SHA-256 of the value (with the source and name) under the node-local key: 32 hex digits. */
export function secretDigest(key: Buffer, ref: Pick<RuntimeSecret, 'source' | 'name'>, value: Uint8Array): string {
  return createHmac('sha256', key).update(`${ref.source}\0${ref.name}\0`).update(value).digest('hex').slice(0, 32);
}

/** The runtime secret that holds a value: content-addressed by its digest, within the node's prefix. */
export function runtimeSecretName(node: string, digest: string): string {
  return `${runtimeSecretPrefix(node)}${digest.slice(0, 24)}`;
}

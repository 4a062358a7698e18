/**
 * Whether this node reports storage capacity, from its node profile in the last good desired state:
 * a profile with `reportsStorage: true` (the built-in ceph-node) reports `ceph df`, falling back to the
 * capacity of /var/lib/ceph when the ceph CLI is missing or fails. `ceph df` asks the monitors, so its
 * answer (or failure) is reused for a minute rather than asked for on every 5 s telemetry tick.
 */
import type { InfraRepo } from '../../common/infra/model.js';
import { resolveProfile } from '../../common/infra/profile-chain.js';
import type { StorageConfig } from './host-metrics.js';
import { runCephDf } from './ceph-df.js';

/** Mount point summed when `ceph df` cannot be run (the Ceph daemons' data, as the ceph-node profile mounts it). */
export const CEPH_FALLBACK_MOUNTS = ['/var/lib/ceph'];

/** The storage options of `node` in `repo`; undefined when the node, its profile or the flag is absent. */
export function storageConfigFor(repo: InfraRepo | undefined, node: string): StorageConfig | undefined {
  const doc = repo?.nodes.get(node)?.doc;
  if (repo === undefined || doc === undefined) return undefined;
  try {
    return resolveProfile(repo, doc.spec.profile).spec.reportsStorage === true ? { ceph: true, mounts: CEPH_FALLBACK_MOUNTS } : undefined;
  } catch {
    // An unknown profile never got into a last good state (validation refuses it); report nothing.
    return undefined;
  }
}

/** `ceph df` output reused for `ttlMs` (default 60 s), failures included, so a slow cluster cannot hold every tick. */
export function cachedCephDf(run: () => Promise<string | undefined> = () => runCephDf(), ttlMs = 60_000, now: () => number = Date.now): () => Promise<string | undefined> {
  let last: { at: number; result: Promise<string | undefined> } | undefined;
  return () => {
    if (last === undefined || now() - last.at >= ttlMs) last = { at: now(), result: run() };
    return last.result;
  };
}

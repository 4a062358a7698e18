/**
 * The last good revision, kept across restarts: the revision, what it rendered for this node and the few
 * node facts the telemetry and usage loops read from it, in <stateDir>/last-good.json (written atomically,
 * mode 0600). After a restart with a bad revision at the branch tip or Git unreachable, the agent repairs
 * drift from it. It holds what Git holds for this node, never a credential or a decrypted secret.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { parseDuration } from '../../common/units.js';
import type { InfraRepo } from '../../common/infra/model.js';
import type { DesiredState } from '../desired.js';
import { resolveProfile } from '../../common/infra/profile-chain.js';

/** What the agent reads from a good revision besides the desired state (so a restored one needs no repo). */
export interface NodeFacts {
  /** GPU model by UUID, as the Node declares them (usage records fall back to these). */
  gpuModels: Record<string, string>;
  /** The node's profile reports storage capacity (Ceph nodes). */
  reportsStorage: boolean;
  /** Cluster spec.pollInterval and spec.telemetryInterval, in ms, when set. */
  pollIntervalMs?: number;
  telemetryIntervalMs?: number;
  /** Cluster spec.hubUrl, when set (compared with the hub URL the agent dials). */
  hubUrl?: string;
}

/** The last good revision in memory. `repo` is absent when it was restored from the state dir. */
export interface LastGood {
  revision: string;
  repo: InfraRepo | undefined;
  desired: DesiredState;
  facts: NodeFacts;
  /** True when it came from <stateDir>/last-good.json at start rather than from a fetch in this process. */
  restored: boolean;
}

const FILE = 'last-good.json';
const VERSION = 1;

/** Path of the persisted last good revision in `stateDir`. */
export function lastGoodPath(stateDir: string): string {
  return join(stateDir, FILE);
}

/** The facts of `node` in a validated repo. */
export function nodeFactsOf(repo: InfraRepo, node: string): NodeFacts {
  const doc = repo.nodes.get(node)?.doc;
  const spec = repo.cluster?.doc.spec;
  let reportsStorage = false;
  try {
    reportsStorage = doc !== undefined && resolveProfile(repo, doc.spec.profile).spec.reportsStorage === true;
  } catch {
    reportsStorage = false;
  }
  const ms = (v: string | undefined): number | undefined => (v === undefined ? undefined : parseDuration(v));
  const facts: NodeFacts = { gpuModels: Object.fromEntries((doc?.spec.gpus ?? []).map((g) => [g.uuid, g.model])), reportsStorage };
  const poll = ms(spec?.pollInterval);
  const telemetry = ms(spec?.telemetryInterval);
  if (poll !== undefined) facts.pollIntervalMs = poll;
  if (telemetry !== undefined) facts.telemetryIntervalMs = telemetry;
  if (spec?.hubUrl !== undefined) facts.hubUrl = spec.hubUrl;
  return facts;
}

/** Writes the last good revision atomically (temp file, fsync, rename): a crash leaves the old one or the new one. */
export async function saveLastGood(stateDir: string, good: LastGood): Promise<void> {
  const body = { version: VERSION, node: good.desired.node, revision: good.revision, savedAt: new Date().toISOString(), facts: good.facts, desired: good.desired };
  await writeFileAtomic(lastGoodPath(stateDir), `${JSON.stringify(body)}\n`, { mode: 0o600 });
}

/** Reads the persisted last good revision for `node`: the record, nothing (first start), or why it is unusable (then it is ignored). */
export async function loadLastGood(stateDir: string, node: string): Promise<{ good: LastGood } | { problem: string } | undefined> {
  let text: string;
  try {
    text = await readFile(lastGoodPath(stateDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return { problem: `cannot read ${lastGoodPath(stateDir)}: ${(err as Error).message}` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { problem: `${lastGoodPath(stateDir)} is not valid JSON` };
  }
  const r = raw as { version?: unknown; node?: unknown; revision?: unknown; facts?: unknown; desired?: Partial<DesiredState> };
  if (r.version !== VERSION) return { problem: `${lastGoodPath(stateDir)}: version ${String(r.version)} is not ${VERSION}` };
  if (r.node !== node) return { problem: `${lastGoodPath(stateDir)} belongs to node ${String(r.node)}, not ${node}` };
  const d = r.desired;
  if (typeof r.revision !== 'string' || d === undefined || d.revision !== r.revision || d.node !== node || !Array.isArray(d.resources) || typeof r.facts !== 'object' || r.facts === null) {
    return { problem: `${lastGoodPath(stateDir)}: revision, desired state or facts missing or inconsistent` };
  }
  return { good: { revision: r.revision, repo: undefined, desired: d as DesiredState, facts: r.facts as NodeFacts, restored: true } };
}

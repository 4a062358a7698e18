/**
 * Storage capacity of a Ceph cluster from `ceph df --format json` (run on a Ceph node). Pure parser plus
 * an argv runner with a timeout; when the ceph CLI is absent the node falls back to configured mounts.
 */
import { runCommand } from '../../common/run-command.js';
import { FoundryError } from '../../common/errors.js';

/** Cluster-wide raw capacity and per-pool usage, in bytes. */
export interface CephCapacity {
  totalBytes: number;
  usedBytes: number;
  availableBytes: number;
  pools: Array<{ name: string; storedBytes: number | null; maxAvailableBytes: number | null }>;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Parses `ceph df --format json`; throws BAD_REQUEST when the cluster totals are missing. */
export function parseCephDf(json: string): CephCapacity {
  let doc: { stats?: Record<string, unknown>; pools?: Array<{ name?: unknown; stats?: Record<string, unknown> }> };
  try {
    doc = JSON.parse(json) as typeof doc;
  } catch (err) {
    throw new FoundryError('BAD_REQUEST', 'ceph df output is not json', { resource: 'ceph df', cause: err });
  }
  const s = doc.stats ?? {};
  const total = num(s['total_bytes']);
  const avail = num(s['total_avail_bytes']);
  // Older releases report total_used_bytes only; newer ones add total_used_raw_bytes (includes overhead).
  const used = num(s['total_used_raw_bytes']) ?? num(s['total_used_bytes']);
  if (total === null || avail === null || used === null) throw new FoundryError('BAD_REQUEST', 'ceph df output has no cluster totals', { resource: 'ceph df' });
  return {
    totalBytes: total,
    usedBytes: used,
    availableBytes: avail,
    pools: (doc.pools ?? []).map((p) => ({ name: String(p.name ?? ''), storedBytes: num(p.stats?.['stored'] ?? p.stats?.['bytes_used']), maxAvailableBytes: num(p.stats?.['max_avail']) })),
  };
}

/** Runs `ceph df --format json` (argv, timeout); resolves undefined when the ceph CLI is not installed. */
export async function runCephDf(command = 'ceph', timeoutMs = 10_000): Promise<string | undefined> {
  let r;
  try {
    r = await runCommand(command, ['df', '--format', 'json'], { timeoutMs });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FoundryError('RUNTIME_UNAVAILABLE', `ceph df failed: cannot start ${command}: ${(err as Error).message.toLowerCase()}`, { resource: 'ceph df', cause: err });
  }
  if (r.timedOut) throw new FoundryError('RUNTIME_UNAVAILABLE', `ceph df failed: no answer within ${timeoutMs} ms`, { resource: 'ceph df' });
  if (r.code !== 0) throw new FoundryError('RUNTIME_UNAVAILABLE', `ceph df failed: exit ${r.code}: ${r.stderr.trim().split('\n').at(-1)?.toLowerCase() ?? ''}`, { resource: 'ceph df' });
  return r.stdout;
}

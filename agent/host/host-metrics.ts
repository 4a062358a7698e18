/**
 * Host metrics for the hub's capacity view: CPU load, memory, filesystems, network, uptime, and, on Ceph
 * nodes, storage capacity. Read through systeminformation (whose Linux probes read /proc asynchronously
 * and spawn `df` for filesystems) except network counters, read from /proc/net/dev directly, so a sample
 * does not hold the event loop (bench/host-metrics.bench.mjs).
 */
import * as si from 'systeminformation';
import { loadavg, cpus } from 'node:os';
import { errorMessage } from '../../common/errors.js';
import { parseCephDf, runCephDf, type CephCapacity } from './ceph-df.js';
import { procNetDevReader } from './proc-net-dev.js';

/** One host sample. Byte counts are bytes; rates are per second since the previous networkStats call. */
export interface HostMetrics {
  at: number;
  cpu: { cores: number; loadPct: number | null; load1: number; load5: number; load15: number };
  memory: { totalBytes: number; usedBytes: number; availableBytes: number };
  filesystems: Array<{ mount: string; fs: string; type: string; sizeBytes: number; usedBytes: number; availableBytes: number }>;
  network: Array<{ iface: string; rxBytes: number; txBytes: number; rxBytesPerSec: number | null; txBytesPerSec: number | null }>;
  uptimeSec: number;
  /** Set on nodes configured to report storage (Ceph nodes). */
  storage?: { source: 'ceph' | 'mounts'; totalBytes: number; usedBytes: number; availableBytes: number; pools?: CephCapacity['pools']; error?: string };
}

/** The systeminformation calls used (tests pass a stub). */
export interface HostSource {
  currentLoad(): Promise<{ currentLoad: number }>;
  mem(): Promise<{ total: number; used: number; available: number }>;
  fsSize(): Promise<Array<{ fs: string; type: string; size: number; used: number; available: number; mount: string }>>;
  networkStats(ifaces: string): Promise<Array<{ iface: string; rx_bytes: number; tx_bytes: number; rx_sec: number | null; tx_sec: number | null }>>;
  time(): { uptime: number | string };
}

/** How storage capacity is reported: `ceph df` (Ceph nodes), a list of mount points, or not at all. */
export interface StorageConfig {
  /** Report `ceph df` cluster capacity; falls back to `mounts` when the ceph CLI is missing or fails. */
  ceph?: boolean;
  /** Mount points whose capacity is summed (e.g. the OSD data mounts). */
  mounts?: string[];
}

/** Collaborators of the collector. */
export interface HostMetricsOptions {
  source?: HostSource;
  clock?: () => number;
  storage?: StorageConfig;
  /** Returns `ceph df --format json` output, or undefined when there is no ceph CLI. */
  cephDf?: () => Promise<string | undefined>;
}

// Pseudo and container-internal filesystems say nothing about capacity.
const SKIP_FS = /^(tmpfs|devtmpfs|overlay|squashfs|proc|sysfs|cgroup2?|nsfs|shm)$/;

/** systeminformation for CPU, memory, filesystems and uptime; /proc/net/dev for network (see proc-net-dev.ts). */
const defaultSource: HostSource = {
  currentLoad: () => si.currentLoad(),
  mem: () => si.mem(),
  fsSize: () => si.fsSize(),
  networkStats: procNetDevReader(),
  time: () => si.time(),
};

/** Takes one host sample. */
export async function collectHostMetrics(opts: HostMetricsOptions = {}): Promise<HostMetrics> {
  const source = opts.source ?? defaultSource;
  const [load, mem, fsList, net] = await Promise.all([source.currentLoad(), source.mem(), source.fsSize(), source.networkStats('*')]);
  const [load1, load5, load15] = loadavg() as [number, number, number];
  const filesystems = fsList
    .filter((f) => !SKIP_FS.test(f.type) && f.size > 0)
    .map((f) => ({ mount: f.mount, fs: f.fs, type: f.type, sizeBytes: f.size, usedBytes: f.used, availableBytes: f.available }));
  const metrics: HostMetrics = {
    at: (opts.clock ?? Date.now)(),
    cpu: { cores: cpus().length, loadPct: Number.isFinite(load.currentLoad) ? load.currentLoad : null, load1, load5, load15 },
    memory: { totalBytes: mem.total, usedBytes: mem.used, availableBytes: mem.available },
    filesystems,
    network: net.map((n) => ({ iface: n.iface, rxBytes: n.rx_bytes, txBytes: n.tx_bytes, rxBytesPerSec: finiteOrNull(n.rx_sec), txBytesPerSec: finiteOrNull(n.tx_sec) })),
    uptimeSec: Number(source.time().uptime),
  };
  const storage = await storageCapacity(opts, filesystems);
  if (storage !== undefined) metrics.storage = storage;
  return metrics;
}

function finiteOrNull(n: number | null): number | null {
  return n !== null && Number.isFinite(n) && n >= 0 ? n : null;
}

async function storageCapacity(opts: HostMetricsOptions, filesystems: HostMetrics['filesystems']): Promise<HostMetrics['storage']> {
  const cfg = opts.storage;
  if (cfg === undefined) return undefined;
  let error: string | undefined;
  if (cfg.ceph === true) {
    try {
      const json = await (opts.cephDf ?? (() => runCephDf()))();
      if (json !== undefined) {
        const c = parseCephDf(json);
        return { source: 'ceph', totalBytes: c.totalBytes, usedBytes: c.usedBytes, availableBytes: c.availableBytes, pools: c.pools };
      }
      error = 'ceph cli not found';
    } catch (err) {
      error = errorMessage(err);
    }
  }
  const wanted = new Set(cfg.mounts ?? []);
  const picked = filesystems.filter((f) => wanted.has(f.mount));
  const sum = (k: 'sizeBytes' | 'usedBytes' | 'availableBytes'): number => picked.reduce((a, f) => a + f[k], 0);
  return { source: 'mounts', totalBytes: sum('sizeBytes'), usedBytes: sum('usedBytes'), availableBytes: sum('availableBytes'), ...(error !== undefined ? { error } : {}) };
}

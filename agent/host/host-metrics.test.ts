import { describe, expect, it } from 'vitest';
import { collectHostMetrics, type HostSource } from './host-metrics.js';
import { parseCephDf } from './ceph-df.js';
import { isFoundryError } from '../../common/errors.js';

// Shape of `ceph df --format json` (Reef); the numbers are made up: no Ceph cluster runs here.
const CEPH_DF = JSON.stringify({
  stats: { total_bytes: 3_000_000_000_000, total_avail_bytes: 2_400_000_000_000, total_used_bytes: 590_000_000_000, total_used_raw_bytes: 600_000_000_000, total_used_raw_ratio: 0.2, num_osds: 3 },
  stats_by_class: { ssd: { total_bytes: 3_000_000_000_000 } },
  pools: [
    { name: '.mgr', id: 1, stats: { stored: 1_000_000, objects: 2, bytes_used: 3_000_000, percent_used: 0, max_avail: 760_000_000_000 } },
    { name: 'volumes', id: 2, stats: { stored: 190_000_000_000, objects: 50_000, bytes_used: 570_000_000_000, percent_used: 0.2, max_avail: 760_000_000_000 } },
  ],
});

const stub: HostSource = {
  currentLoad: async () => ({ currentLoad: 12.5 }),
  mem: async () => ({ total: 64e9, used: 16e9, available: 48e9 }),
  fsSize: async () => [
    { fs: '/dev/sda1', type: 'ext4', size: 1000, used: 400, available: 600, mount: '/' },
    { fs: '/dev/sdb1', type: 'xfs', size: 5000, used: 1000, available: 4000, mount: '/var/lib/ceph/osd/ceph-0' },
    { fs: 'tmpfs', type: 'tmpfs', size: 10, used: 0, available: 10, mount: '/run' },
  ],
  networkStats: async () => [{ iface: 'eth0', rx_bytes: 100, tx_bytes: 200, rx_sec: 5, tx_sec: null }],
  time: () => ({ uptime: 3600 }),
};

describe('host metrics', () => {
  it('maps systeminformation readings and skips pseudo filesystems', async () => {
    const m = await collectHostMetrics({ source: stub, clock: () => 42 });
    expect(m.at).toBe(42);
    expect(m.cpu.loadPct).toBe(12.5);
    expect(m.memory).toEqual({ totalBytes: 64e9, usedBytes: 16e9, availableBytes: 48e9 });
    expect(m.filesystems.map((f) => f.mount)).toEqual(['/', '/var/lib/ceph/osd/ceph-0']);
    expect(m.network).toEqual([{ iface: 'eth0', rxBytes: 100, txBytes: 200, rxBytesPerSec: 5, txBytesPerSec: null }]);
    expect(m.uptimeSec).toBe(3600);
    expect(m.storage).toBeUndefined();
  });

  it('reports Ceph capacity from ceph df', async () => {
    const m = await collectHostMetrics({ source: stub, storage: { ceph: true }, cephDf: async () => CEPH_DF });
    expect(m.storage).toEqual({
      source: 'ceph', totalBytes: 3e12, usedBytes: 6e11, availableBytes: 2.4e12,
      pools: [{ name: '.mgr', storedBytes: 1e6, maxAvailableBytes: 7.6e11 }, { name: 'volumes', storedBytes: 1.9e11, maxAvailableBytes: 7.6e11 }],
    });
  });

  it('falls back to configured mounts when the ceph cli is missing', async () => {
    const m = await collectHostMetrics({ source: stub, storage: { ceph: true, mounts: ['/var/lib/ceph/osd/ceph-0'] }, cephDf: async () => undefined });
    expect(m.storage).toEqual({ source: 'mounts', totalBytes: 5000, usedBytes: 1000, availableBytes: 4000, error: 'ceph cli not found' });
  });

  it('rejects ceph df output without totals', () => {
    expect(() => parseCephDf('{"pools":[]}')).toThrow(/no cluster totals/);
    try { parseCephDf('not json'); } catch (err) { expect(isFoundryError(err, 'BAD_REQUEST')).toBe(true); }
  });

  it('samples this real host through systeminformation', async () => {
    const m = await collectHostMetrics();
    expect(m.cpu.cores).toBeGreaterThan(0);
    expect(m.memory.totalBytes).toBeGreaterThan(0);
    expect(m.filesystems.length).toBeGreaterThan(0);
    expect(m.uptimeSec).toBeGreaterThan(0);
  });
});

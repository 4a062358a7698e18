import { describe, expect, it } from 'vitest';
import { collectHostMetrics, type HostSource } from './host-metrics.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../common/paths.js';

// Real `ceph df --format json` of ceph 16.2.15 (fixtures/ceph/SOURCES.md).
const CEPH_DF = readFileSync(join(PACKAGE_ROOT, 'fixtures', 'ceph', 'df-pacific-16.2.15.json'), 'utf8');

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
      source: 'ceph', totalBytes: 4294967296, usedBytes: 325304320, availableBytes: 3969662976,
      pools: [{ name: 'device_health_metrics', storedBytes: 0, maxAvailableBytes: 3754914560 }, { name: 'rbd', storedBytes: 20971520, maxAvailableBytes: 3754914560 }],
    });
  });

  it('falls back to configured mounts when the ceph cli is missing', async () => {
    const m = await collectHostMetrics({ source: stub, storage: { ceph: true, mounts: ['/var/lib/ceph/osd/ceph-0'] }, cephDf: async () => undefined });
    expect(m.storage).toEqual({ source: 'mounts', totalBytes: 5000, usedBytes: 1000, availableBytes: 4000, error: 'ceph cli not found' });
  });

  it('samples this real host through systeminformation', async () => {
    const m = await collectHostMetrics();
    expect(m.cpu.cores).toBeGreaterThan(0);
    expect(m.memory.totalBytes).toBeGreaterThan(0);
    expect(m.filesystems.length).toBeGreaterThan(0);
    expect(m.uptimeSec).toBeGreaterThan(0);
  });
});

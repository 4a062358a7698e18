import { describe, expect, it } from 'vitest';
import { cachedCephDf, storageConfigFor } from './storage-config.js';
import { repoOf } from '../../test/support/infra-repo.js';
import { loadInfraDir } from '../../common/infra/load.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = repoOf([
  { kind: 'NodeProfile', metadata: { name: 'ceph-node' }, spec: { reportsStorage: true } },
  { kind: 'NodeProfile', metadata: { name: 'big-ceph' }, spec: { extends: 'ceph-node', description: 'more disks' } },
  { kind: 'NodeProfile', metadata: { name: 'gpu-node' }, spec: { reportsStorage: false } },
  { kind: 'Node', metadata: { name: 'ceph-01' }, spec: { profile: 'ceph-node' } },
  { kind: 'Node', metadata: { name: 'ceph-02' }, spec: { profile: 'big-ceph' } },
  { kind: 'Node', metadata: { name: 'gpu-01' }, spec: { profile: 'gpu-node' } },
  { kind: 'Node', metadata: { name: 'odd-01' }, spec: { profile: 'missing' } },
]);

describe('storageConfigFor', () => {
  it('reports ceph df (falling back to /var/lib/ceph) only for nodes whose profile reports storage', () => {
    expect(storageConfigFor(repo, 'ceph-01')).toEqual({ ceph: true, mounts: ['/var/lib/ceph'] });
    expect(storageConfigFor(repo, 'ceph-02')).toEqual({ ceph: true, mounts: ['/var/lib/ceph'] });
    expect(storageConfigFor(repo, 'gpu-01')).toBeUndefined();
    expect(storageConfigFor(repo, 'odd-01')).toBeUndefined();
    expect(storageConfigFor(repo, 'nobody')).toBeUndefined();
    expect(storageConfigFor(undefined, 'ceph-01')).toBeUndefined();
  });

  it('reads the built-in ceph-node profile of a loaded repo', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'foundry-storage-cfg-'));
    try {
      const loaded = await loadInfraDir(dir);
      loaded.nodes.set('ceph-01', { doc: { apiVersion: 'foundry.cloud/v1', kind: 'Node', metadata: { name: 'ceph-01' }, spec: { profile: 'ceph-node' } }, source: { file: 'n.yaml', line: 1, column: 1 } } as never);
      expect(storageConfigFor(loaded, 'ceph-01')).toEqual({ ceph: true, mounts: ['/var/lib/ceph'] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('cachedCephDf', () => {
  it('asks ceph once a minute and hands out the same answer or failure meanwhile', async () => {
    let now = 0;
    let calls = 0;
    const df = cachedCephDf(async () => { calls += 1; if (calls === 2) throw new Error('timed out'); return `out-${calls}`; }, 60_000, () => now);
    expect(await df()).toBe('out-1');
    now = 59_999;
    expect(await df()).toBe('out-1');
    now = 60_000;
    await expect(df()).rejects.toThrow('timed out');
    now = 100_000;
    await expect(df()).rejects.toThrow('timed out');
    now = 120_000;
    expect(await df()).toBe('out-3');
    expect(calls).toBe(3);
  });
});

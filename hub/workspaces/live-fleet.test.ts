// The live view against a real SQLite store: GPU health from each node's latest stored telemetry.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubStore } from '../store/hub-store.js';
import { repoOf } from '../../test/support/infra-repo.js';
import { latestGpuHealth, liveFleet } from './live-fleet.js';

const H100 = 'NVIDIA H100 80GB HBM3';
const host = { cpuPct: null, memUsedBytes: null, memTotalBytes: null };
const gpu = (uuid: string, health?: { state: 'healthy' | 'degraded' | 'unhealthy'; problems: string[] }) => ({ uuid, utilizationGpuPct: 1, memoryUsedMiB: 1, memoryTotalMiB: 2, ...(health === undefined ? {} : { health }) });
let dir: string | undefined;
afterEach(() => { if (dir !== undefined) rmSync(dir, { recursive: true, force: true }); });

describe('liveFleet: GPU health', () => {
  it('marks only GPUs whose latest telemetry says unhealthy; degraded and unknown stay placeable, and a newer sample replaces it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'foundry-live-fleet-'));
    const store = new HubStore(join(dir, 'hub.db'));
    try {
      const repo = repoOf([
        { kind: 'Node', metadata: { name: 'gpu-01' }, spec: { profile: 'gpu-node', gpus: [{ uuid: 'GPU-1', model: H100 }, { uuid: 'GPU-2', model: H100 }, { uuid: 'GPU-3', model: H100 }] } },
        { kind: 'Node', metadata: { name: 'gpu-02' }, spec: { profile: 'gpu-node' } },
      ]);
      await store.writeTelemetry({ latest: [{ node: 'gpu-01', at: 1, host, gpus: [gpu('GPU-1', { state: 'unhealthy', problems: ['ecc_uncorrected', 'row_remap_pending'] }), gpu('GPU-2', { state: 'degraded', problems: ['thermal_throttle'] }), gpu('GPU-3')] }], rollups: [] });
      expect((await liveFleet(store.fleet, repo, ['gpu-01'])).get('gpu-01')).toEqual({ online: true, unhealthyGpus: { 'GPU-1': ['ecc_uncorrected', 'row_remap_pending'] } });
      expect((await liveFleet(store.fleet, repo, [])).get('gpu-02')).toEqual({ online: false });
      expect((await latestGpuHealth(store.fleet)).get('gpu-01')?.get('GPU-2')).toEqual({ state: 'degraded', problems: ['thermal_throttle'] });
      await store.writeTelemetry({ latest: [{ node: 'gpu-01', at: 2, host, gpus: [gpu('GPU-1', { state: 'healthy', problems: [] })] }], rollups: [] });
      expect((await liveFleet(store.fleet, repo, ['gpu-01'])).get('gpu-01')).toEqual({ online: true });
    } finally {
      await store.close();
    }
  });
});

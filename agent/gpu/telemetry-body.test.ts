import { describe, expect, it } from 'vitest';
import { telemetryBody } from './telemetry-body.js';
import { parseStatsCsv } from './query-gpu.js';
import { capture } from '../../test/gpu/captures.js';
import { validatorFor } from '../../common/schema.js';
import type { HostMetrics } from '../host/host-metrics.js';

const host: HostMetrics = {
  at: 5, cpu: { cores: 2, loadPct: 3.5, load1: 0.2, load5: 0.1, load15: 0 }, memory: { totalBytes: 100, usedBytes: 40, availableBytes: 60 },
  filesystems: [], network: [], uptimeSec: 1,
};

describe('telemetryBody', () => {
  it('builds a body the protocol schema accepts, from a real MIG capture (null utilization)', () => {
    const gpus = parseStatsCsv(capture('h100-80gb-hbm3_mig-enabled_load_query-gpu-all-fields.csv'));
    const body = telemetryBody('gpu-01', { at: 1_700_000_000_000, available: true, gpus, processes: [] }, host);
    expect(body.gpus).toEqual([{ uuid: 'GPU-00000000-0000-0000-0000-000000000000', utilizationGpuPct: null, utilizationMemoryPct: null, memoryUsedMiB: 11125, memoryTotalMiB: 81559, powerDrawW: 433.78, temperatureC: 53 }]);
    const validate = validatorFor('protocol/telemetry.schema.json');
    const ok = validate({ v: 1, type: 'telemetry', id: 'm1', ts: '2026-11-27T18:00:00Z', body });
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('sends zero GPUs and the host sample time when the node has no GPU', () => {
    expect(telemetryBody('svc-01', undefined, host)).toEqual({ node: 'svc-01', at: 5, gpus: [], host: { cpuPct: 3.5, memUsedBytes: 40, memTotalBytes: 100, load1: 0.2 } });
  });
});

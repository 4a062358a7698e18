// The GPU plugin against the stand-in nvidia-smi on PATH: replayed captures, and every failure mode.
import { afterEach, describe, expect, it } from 'vitest';
import { NvidiaGpuPlugin, type GpuLogger } from '../../agent/gpu/nvidia-plugin.js';
import { SmiRunner } from '../../agent/gpu/smi-runner.js';
import { isFoundryError, type FoundryError } from '../../common/errors.js';
import { fakeSmi, processAlive, waitFor, type FakeSmi } from './fake-smi.js';

const H100 = 'GPU-00000000-0000-0000-0000-000000000000';
let fake: FakeSmi | undefined;
afterEach(() => fake?.cleanup());

function setup(scenario: string, timeoutMs = 5_000): { plugin: NvidiaGpuPlugin; runner: SmiRunner; logs: string[] } {
  fake = fakeSmi(scenario);
  const runner = new SmiRunner({ env: fake.env, timeoutMs });
  const logs: string[] = [];
  const logger: GpuLogger = { info: (o, m) => logs.push(`info ${m} ${JSON.stringify(o)}`), warn: (o, m) => logs.push(`warn ${m}`) };
  return { plugin: new NvidiaGpuPlugin({ exec: runner.run, clock: () => 1_700_000_000_000, logger }), runner, logs };
}

async function rejection(p: Promise<unknown>): Promise<FoundryError> {
  try {
    await p;
  } catch (err) {
    if (isFoundryError(err)) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('gpu plugin with the stand-in nvidia-smi', () => {
  it('fingerprints an H100 from the CSV interface alone', async () => {
    const { plugin } = setup('h100-load');
    expect(await plugin.fingerprint()).toEqual({
      available: true,
      gpus: [{ index: 0, uuid: H100, model: 'NVIDIA H100 80GB HBM3', memoryTotalMiB: 81559, driverVersion: '590.48.01', pciBusId: '0000:00:09.0', migEnabled: false, migDevices: [] }],
    });
  });

  it('fingerprints MIG devices from -L when -q -x is unavailable (GI/CI unknown, logged)', async () => {
    const { plugin, logs } = setup('h100-mig');
    const inv = await plugin.fingerprint();
    expect(inv.gpus[0]?.migEnabled).toBe(true);
    expect(inv.gpus[0]?.migDevices.map((m) => [m.index, m.profile, m.uuid, m.gpuInstanceId])).toEqual([
      [0, '3g.40gb', 'MIG-00000000-0000-0000-0000-000000000000', null],
      [1, '2g.20gb', 'MIG-00000001-0000-0000-0000-000000000001', null],
      [2, '1g.10gb', 'MIG-00000002-0000-0000-0000-000000000002', null],
      [3, '1g.10gb', 'MIG-00000003-0000-0000-0000-000000000003', null],
    ]);
    expect(logs.some((l) => l.startsWith('warn nvidia-smi -q -x failed'))).toBe(true);
  });

  it('samples GPUs and compute processes', async () => {
    const { plugin } = setup('h100-load');
    const s = await plugin.stats();
    expect(s.at).toBe(1_700_000_000_000);
    expect(s.available).toBe(true);
    expect(s.gpus).toEqual([{
      uuid: H100, index: 0, model: 'NVIDIA H100 80GB HBM3', pciBusId: '0000:00:09.0', utilizationGpuPct: 100, utilizationMemoryPct: 11,
      memoryUsedMiB: 19818, memoryTotalMiB: 81559, powerDrawW: 631.95, powerLimitW: 700, temperatureC: 59, smClockMHz: 1980, memClockMHz: 2619,
      health: { state: 'healthy', problems: [] },
    }]);
    expect(s.processes.map((p) => [p.pid, p.gpuUuid, p.usedMemoryMiB, p.name])).toEqual([
      [11327, H100, 2566, '/root/tools/memhog'], [11328, H100, 1542, '/root/tools/memhog'], [11345, H100, 15690, './gpu_burn'],
    ]);
  });

  it('kills a hung nvidia-smi and its process group on timeout, then the next poll works', async () => {
    const { plugin } = setup('hang', 2_500);
    const err = await rejection(plugin.stats());
    expect(err.code).toBe('NVIDIA_SMI_TIMEOUT');
    const pids = fake!.pids();
    expect(pids).toHaveLength(2); // the stand-in and the helper it started
    expect(await waitFor(() => pids.every((p) => !processAlive(p)))).toBe(true);
    fake!.scenario('h100-idle');
    const s = await plugin.stats();
    expect(s.gpus[0]?.powerDrawW).toBe(69.85);
    expect(s.processes).toEqual([]);
  });

  it('does not pile up processes when polls come faster than a hung nvidia-smi answers', async () => {
    const { plugin } = setup('hang', 2_500);
    const polls = Array.from({ length: 10 }, () => plugin.stats());
    expect(new Set(polls).size).toBe(1); // callers join the poll in flight
    const errs = await Promise.all(polls.map(rejection));
    expect(errs.every((e) => e.code === 'NVIDIA_SMI_TIMEOUT')).toBe(true);
    expect(fake!.pids()).toHaveLength(2); // one stand-in (+ its helper), not ten
  });

  it('refuses to start a second nvidia-smi while one is alive', async () => {
    const { runner } = setup('hang', 2_500);
    const first = runner.run(['-L']);
    const second = await rejection(runner.run(['-L']));
    expect([second.code, second.details?.['reason']]).toEqual(['NVIDIA_SMI', 'busy']);
    expect((await rejection(first)).code).toBe('NVIDIA_SMI_TIMEOUT');
    await waitFor(() => runner.alivePid === undefined);
    expect(runner.alivePid).toBeUndefined();
  });

  it('turns garbage output into a typed parse error, then recovers', async () => {
    const { plugin } = setup('garbage');
    expect((await rejection(plugin.stats())).code).toBe('NVIDIA_SMI_PARSE');
    fake!.scenario('h100-load');
    expect((await plugin.stats()).gpus).toHaveLength(1);
  });

  it('turns a crash (exit 9) into a typed error, then recovers', async () => {
    const { plugin } = setup('crash');
    const err = await rejection(plugin.stats());
    expect([err.code, err.details?.['code']]).toEqual(['NVIDIA_SMI', 9]);
    expect(err.message).toContain("couldn't communicate with the nvidia driver");
    fake!.scenario('h100-load');
    expect((await plugin.stats()).available).toBe(true);
  });

  it('reflects a GPU that disappears in the next sample, and one that comes back (no inventory taken)', async () => {
    const { plugin, logs } = setup('h100-load');
    expect((await plugin.stats()).gpus.map((g) => g.uuid)).toEqual([H100]);
    fake!.scenario('gpu-lost');
    // nvidia-smi names the lost GPU by PCI bus id only: without an inventory there is no uuid to report it under
    expect(await plugin.stats()).toMatchObject({ available: false, reason: 'no gpu found', gpus: [] });
    expect(logs.some((l) => l.startsWith('warn nvidia-smi cannot reach a gpu that is not in the inventory'))).toBe(true);
    fake!.scenario('none');
    for (let i = 0; i < 3; i++) expect(await plugin.stats()).toMatchObject({ available: false, reason: 'no gpu found', gpus: [], processes: [] });
    expect(logs.filter((l) => l.includes('zero gpus'))).toHaveLength(1); // logged once, not per poll
    fake!.scenario('h100-idle');
    expect((await plugin.stats()).gpus.map((g) => g.uuid)).toEqual([H100]);
    expect(logs.at(-1)).toContain('gpus reported again');
  });

  it('reports an inventoried GPU that fell off the bus as unhealthy, then healthy again when it is back', async () => {
    const { plugin } = setup('h100-load');
    await plugin.fingerprint();
    fake!.scenario('gpu-lost');
    const lost = await plugin.stats();
    expect(lost).toMatchObject({ available: true, processes: [] });
    expect(lost.gpus).toEqual([{
      uuid: H100, index: 0, model: 'NVIDIA H100 80GB HBM3', pciBusId: '0000:00:09.0', utilizationGpuPct: null, utilizationMemoryPct: null,
      memoryUsedMiB: null, memoryTotalMiB: 81559, powerDrawW: null, powerLimitW: null, temperatureC: null, smClockMHz: null, memClockMHz: null,
      health: { state: 'unhealthy', problems: ['fallen_off_bus'] },
    }]);
    fake!.scenario('none'); // the driver no longer lists it at all
    expect((await plugin.stats()).gpus.map((g) => [g.uuid, g.health])).toEqual([[H100, { state: 'unhealthy', problems: ['fallen_off_bus'] }]]);
    fake!.scenario('h100-idle');
    expect((await plugin.stats()).gpus.map((g) => g.health)).toEqual([{ state: 'healthy', problems: [] }]);
  });

  it('reads faults from the health fields (stand-in overrides)', async () => {
    const { plugin } = setup('h100-load\necc.errors.uncorrected.volatile.total=2\nremapped_rows.pending=Yes\nclocks_event_reasons.hw_thermal_slowdown=Active');
    expect((await plugin.stats()).gpus.map((g) => g.health)).toEqual([{ state: 'unhealthy', problems: ['ecc_uncorrected', 'row_remap_pending', 'thermal_throttle'] }]);
    fake!.scenario('h100-load\nclocks_event_reasons.hw_power_brake_slowdown=Active\nclocks_event_reasons.hw_slowdown=Active');
    expect((await plugin.stats()).gpus.map((g) => g.health)).toEqual([{ state: 'degraded', problems: ['power_brake'] }]);
    fake!.scenario('h100-load\ngpu_recovery_action=Reset');
    expect((await plugin.stats()).gpus.map((g) => g.health)).toEqual([{ state: 'unhealthy', problems: ['reset_required'] }]);
  });

  it('reports zero GPUs, not an error loop, when nvidia-smi is not installed', async () => {
    const logs: string[] = [];
    const plugin = new NvidiaGpuPlugin({ command: '/nonexistent/nvidia-smi', logger: { info: (_o, m) => logs.push(m), warn: (_o, m) => logs.push(m) } });
    expect(await plugin.fingerprint()).toEqual({ available: false, reason: '/nonexistent/nvidia-smi not found', gpus: [] });
    for (let i = 0; i < 3; i++) expect((await plugin.stats()).available).toBe(false);
    expect(logs).toEqual(['no gpus reported: node has zero gpus']);
  });
});

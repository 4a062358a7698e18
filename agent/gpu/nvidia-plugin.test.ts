// The plugin's logic with an injected exec (no processes): the XML path for MIG, and single-flight.
import { describe, expect, it } from 'vitest';
import { NvidiaGpuPlugin } from './nvidia-plugin.js';
import { capture } from '../../test/gpu/captures.js';
import type { SmiExec } from './smi-runner.js';

const A100 = 'GPU-513536b6-7d19-9063-b049-1e69664bb298';

describe('NvidiaGpuPlugin (injected exec)', () => {
  it('reads GI/CI ids from -q -x when a GPU has MIG enabled (A100 capture)', async () => {
    const calls: string[] = [];
    const exec: SmiExec = async (args) => {
      calls.push(args[0] as string);
      if (args[0]?.startsWith('--query-gpu=')) return { code: 0, stderr: '', stdout: `0, ${A100}, 00000000:01:00.0, 81920, 535.54.03, Enabled, NVIDIA A100-SXM4-80GB\n` };
      if (args[0] === '-q') return { code: 0, stderr: '', stdout: capture('a100-sxm4-80gb-x4_mig-enabled_driver-535.54.03_q-x.xml') };
      return { code: 0, stderr: '', stdout: `GPU 0: NVIDIA A100-SXM4-80GB (UUID: ${A100})\n  MIG 1g.20gb     Device  0: (UUID: MIG-aaaaaaaa-0000-0000-0000-000000000000)\n` };
    };
    const inv = await new NvidiaGpuPlugin({ exec }).fingerprint();
    expect(calls.map((c) => c.split('=')[0])).toEqual(['--query-gpu', '-q', '-L']);
    expect(inv.gpus[0]?.migDevices.map((m) => [m.index, m.uuid, m.profile, m.gpuInstanceId, m.computeInstanceId])).toEqual([
      [0, 'MIG-aaaaaaaa-0000-0000-0000-000000000000', '1g.20gb', 3, 0], [1, null, null, 4, 0], [2, null, null, 5, 0], [3, null, null, 6, 0],
    ]);
  });

  it('never reads -q -x on GPUs without MIG', async () => {
    const calls: string[] = [];
    const exec: SmiExec = async (args) => { calls.push(args[0] as string); return { code: 0, stderr: '', stdout: `0, GPU-1, 0000:01:00.0, 16384, 510.47.03, [N/A], Tesla P100-PCIE-16GB\n` }; };
    const inv = await new NvidiaGpuPlugin({ exec }).fingerprint();
    expect(calls).toHaveLength(1);
    expect(inv.gpus[0]?.migEnabled).toBeNull();
  });

  it('joins concurrent polls and serialises stats with fingerprint: one nvidia-smi at a time', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let calls = 0;
    const exec: SmiExec = async (args) => {
      calls++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      if (args[0]?.startsWith('--query-compute-apps')) return { code: 0, stderr: '', stdout: '' };
      return { code: 0, stderr: '', stdout: args[0]?.includes('driver_version') ? '0, GPU-1, 0000:01:00.0, 1, 1.0, Disabled, X\n' : '0, GPU-1, 0000:01:00.0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0, No, No, No, Not Active, Not Active, Not Active, Not Active, None, X\n' };
    };
    const plugin = new NvidiaGpuPlugin({ exec });
    const polls = [plugin.stats(), plugin.stats(), plugin.fingerprint(), plugin.stats(), plugin.fingerprint()];
    await Promise.all(polls);
    expect(maxInFlight).toBe(1);
    expect(calls).toBe(3); // one stats (2 calls) + one fingerprint (1 call), however many callers
  });

  it('drops a health field an older driver does not know, logs it once, and keeps sampling', async () => {
    const queried: string[][] = [];
    const logs: string[] = [];
    const exec: SmiExec = async (args) => {
      if (args[0]?.startsWith('--query-compute-apps')) return { code: 0, stderr: '', stdout: '' };
      const fields = (args[0] ?? '').slice('--query-gpu='.length).split(',');
      queried.push(fields);
      if (fields.includes('gpu_recovery_action')) return { code: 2, stderr: '', stdout: 'Field "gpu_recovery_action" is not a valid field to query.\n\n' };
      const values: Record<string, string> = { index: '0', uuid: 'GPU-1', 'pci.bus_id': '00000000:01:00.0', name: 'Tesla V100', 'ecc.errors.uncorrected.volatile.total': '3' };
      return { code: 0, stderr: '', stdout: `${fields.map((f) => values[f] ?? '[N/A]').join(', ')}\n` };
    };
    const plugin = new NvidiaGpuPlugin({ exec, logger: { info: () => undefined, warn: (o, m) => logs.push(`${m} ${JSON.stringify(o)}`) } });
    expect((await plugin.stats()).gpus.map((g) => g.health)).toEqual([{ state: 'unhealthy', problems: ['ecc_uncorrected'] }]);
    expect((await plugin.stats()).gpus).toHaveLength(1);
    expect(queried.map((f) => f.includes('gpu_recovery_action'))).toEqual([true, false, false]);
    expect(logs).toEqual(['nvidia-smi does not know this health field; health is read without it {"field":"gpu_recovery_action"}']);
  });

  it('still fails on a refused field that is not a health field', async () => {
    const exec: SmiExec = async () => ({ code: 2, stderr: '', stdout: 'Field "memory.used" is not a valid field to query.\n' });
    await expect(new NvidiaGpuPlugin({ exec }).stats()).rejects.toMatchObject({ code: 'NVIDIA_SMI', details: { code: 2, invalidField: 'memory.used' } });
  });
});

// Every parser against every real capture in fixtures/nvidia-smi/, with exact expected values.
import { describe, expect, it } from 'vitest';
import { capture, captureFiles, captureSection } from '../../test/gpu/captures.js';
import { INVENTORY_FIELDS, STATS_FIELDS, parseInventoryCsv, parseStatsCsv } from './query-gpu.js';
import { COMPUTE_APPS_FIELDS, parseComputeAppsCsv } from './query-compute-apps.js';
import { parseSmiXml } from './smi-xml.js';
import { parseListGpus } from './list-gpus.js';

const H100 = 'GPU-00000000-0000-0000-0000-000000000000';
const FULL = 'h100-80gb-hbm3_full-capture_driver-590.48.01_all-formats.txt';
const FULL_MIG = 'h100-80gb-hbm3_mig-4-instances_full-capture_driver-590.48.01_all-formats.txt';
const HEALTHY = { state: 'healthy', problems: [] };
const covered = new Set<string>(['SOURCES.md']);
const use = (name: string): string => { covered.add(name); return capture(name); };
const useSection = (name: string, title: string): string => { covered.add(name); return captureSection(name, title); };

describe('query-gpu captures', () => {
  it('H100 idle', () => {
    const [g] = parseStatsCsv(use('h100-80gb-hbm3_idle_query-gpu-all-fields.csv'));
    expect(g).toEqual({
      uuid: H100, index: 0, model: 'NVIDIA H100 80GB HBM3', pciBusId: '0000:00:09.0', utilizationGpuPct: 0, utilizationMemoryPct: 0,
      memoryUsedMiB: 0, memoryTotalMiB: 81559, powerDrawW: 69.85, powerLimitW: 700, temperatureC: 41, smClockMHz: 345, memClockMHz: 2619, health: HEALTHY,
    });
  });

  it('H100 under load', () => {
    const text = use('h100-80gb-hbm3_load_query-gpu-all-fields.csv');
    expect(parseStatsCsv(text)).toEqual([{
      uuid: H100, index: 0, model: 'NVIDIA H100 80GB HBM3', pciBusId: '0000:00:09.0', utilizationGpuPct: 100, utilizationMemoryPct: 11,
      memoryUsedMiB: 19818, memoryTotalMiB: 81559, powerDrawW: 631.95, powerLimitW: 700, temperatureC: 59, smClockMHz: 1980, memClockMHz: 2619, health: HEALTHY,
    }]);
    expect(parseInventoryCsv(text)).toEqual([{ uuid: H100, index: 0, pciBusId: '0000:00:09.0', memoryTotalMiB: 81559, driverVersion: '590.48.01', migEnabled: false, model: 'NVIDIA H100 80GB HBM3' }]);
  });

  it('H100 with MIG: utilization is [N/A] (null) while power is measured', () => {
    const text = use('h100-80gb-hbm3_mig-enabled_load_query-gpu-all-fields.csv');
    const [g] = parseStatsCsv(text);
    expect(g?.utilizationGpuPct).toBeNull();
    expect(g?.utilizationMemoryPct).toBeNull();
    expect(g?.powerDrawW).toBe(433.78);
    expect(g?.memoryUsedMiB).toBe(11125);
    expect(g?.temperatureC).toBe(53);
    expect(parseInventoryCsv(text)[0]?.migEnabled).toBe(true);
  });

  it('Tesla P100 csv,nounits with a header, [N/A] fan and no trailing newline', () => {
    expect(parseStatsCsv(use('tesla-p100_query-gpu_csv-with-NA.csv'))).toEqual([{
      uuid: 'GPU-ef1b2c9b-38d8-2090-2bd1-f567a3eb42a6', index: null, model: 'Tesla P100-PCIE-16GB', pciBusId: null, utilizationGpuPct: 0,
      utilizationMemoryPct: 0, memoryUsedMiB: 0, memoryTotalMiB: null, powerDrawW: 28.16, powerLimitW: null, temperatureC: 37, smClockMHz: 405, memClockMHz: 715, health: HEALTHY,
    }]);
  });

  it('full captures: idle and load sections', () => {
    expect(parseStatsCsv(useSection(FULL, 'idle :: query-gpu'))[0]?.powerDrawW).toBe(69.85);
    expect(parseStatsCsv(useSection(FULL, 'load :: query-gpu'))[0]?.utilizationGpuPct).toBe(100);
    const idleMig = parseStatsCsv(useSection(FULL_MIG, 'idle :: query-gpu'))[0];
    expect([idleMig?.utilizationGpuPct, idleMig?.memoryUsedMiB, idleMig?.powerDrawW, idleMig?.temperatureC]).toEqual([null, 59, 71.15, 42]);
    expect(parseStatsCsv(useSection(FULL_MIG, 'load :: query-gpu'))[0]?.memoryUsedMiB).toBe(11125);
  });
});

describe('query-compute-apps captures', () => {
  it('empty (header only)', () => {
    expect(parseComputeAppsCsv(use('h100-80gb-hbm3_idle_query-compute-apps-empty.csv'))).toEqual([]);
    expect(parseComputeAppsCsv(useSection(FULL, 'idle :: query-compute-apps'))).toEqual([]);
  });

  it('three processes, units in values', () => {
    const expected = [
      { pid: 11327, gpuUuid: H100, name: '/root/tools/memhog', usedMemoryMiB: 2566 },
      { pid: 11328, gpuUuid: H100, name: '/root/tools/memhog', usedMemoryMiB: 1542 },
      { pid: 11345, gpuUuid: H100, name: './gpu_burn', usedMemoryMiB: 15690 },
    ];
    expect(parseComputeAppsCsv(use('h100-80gb-hbm3_load_query-compute-apps-3-processes.csv'))).toEqual(expected);
    expect(parseComputeAppsCsv(useSection(FULL, 'load :: query-compute-apps'))).toEqual(expected);
  });

  it('MIG: processes name the parent GPU', () => {
    const procs = parseComputeAppsCsv(use('h100-80gb-hbm3_mig-enabled_load_query-compute-apps.csv'));
    expect(procs.map((p) => [p.pid, p.gpuUuid, p.usedMemoryMiB])).toEqual([[21180, H100, 2296], [21181, H100, 1272], [21198, H100, 7484]]);
    expect(parseComputeAppsCsv(useSection(FULL_MIG, 'load :: query-compute-apps')).map((p) => p.pid)).toEqual([21180, 21181, 21198]);
  });

  it('host view of a container process (issue excerpt): the host PID, no gpu_uuid column', () => {
    const body = use('host-view_query-compute-apps_container-process__issue-excerpt.txt').split('\n').filter((l) => !/^[#$]/.test(l)).join('\n');
    expect(parseComputeAppsCsv(body)).toEqual([{ pid: 40170, gpuUuid: null, name: '/opt/rh/rh-python38/root/usr/bin/python3', usedMemoryMiB: 185 }]);
  });
});

describe('-q -x captures', () => {
  it('A100 with MIG: four MIG devices with GI/CI ids, utilization N/A', () => {
    const r = parseSmiXml(use('a100-sxm4-80gb-x4_mig-enabled_driver-535.54.03_q-x.xml'));
    expect(r.driverVersion).toBe('535.54.03');
    expect(r.attachedGpus).toBe(4);
    const g = r.gpus[0];
    expect([g?.uuid, g?.model, g?.pciBusId, g?.memoryTotalMiB, g?.migEnabled]).toEqual(['GPU-513536b6-7d19-9063-b049-1e69664bb298', 'NVIDIA A100-SXM4-80GB', '0000:01:00.0', 81920, true]);
    expect([g?.utilizationGpuPct, g?.powerDrawW, g?.powerLimitW, g?.temperatureC, g?.smClockMHz]).toEqual([null, 67.03, 500, 27, 1275]);
    expect(g?.migDevices.map((m) => [m.index, m.gpuInstanceId, m.computeInstanceId, m.memoryTotalMiB])).toEqual([[0, 3, 0, 19968], [1, 4, 0, 19968], [2, 5, 0, 19968], [3, 6, 0, 19968]]);
    expect(g?.processes).toEqual([]);
  });

  it('RTX 4090 (535 <gpu_power_readings> layout)', () => {
    const g = parseSmiXml(use('rtx-4090_driver-535.86.05_q-x.xml')).gpus[0];
    expect([g?.uuid, g?.model, g?.pciBusId, g?.memoryTotalMiB, g?.memoryUsedMiB]).toEqual(['GPU-71d1acc2-662d-2166-bf9f-65272d2fc437', 'NVIDIA GeForce RTX 4090', '0000:84:00.0', 24564, 2]);
    expect([g?.powerDrawW, g?.powerLimitW, g?.temperatureC, g?.smClockMHz, g?.memClockMHz, g?.migEnabled]).toEqual([26.84, 450, 40, 210, 405, null]);
  });

  it('Tesla P100 (tab-indented, v11 <power_readings>)', () => {
    const g = parseSmiXml(use('tesla-p100_driver-510.47.03_q-x.xml')).gpus[0];
    expect([g?.uuid, g?.model, g?.driverVersion, g?.memoryTotalMiB, g?.powerDrawW, g?.powerLimitW, g?.temperatureC]).toEqual(['GPU-d3da8716-eaab-75db-efc1-60e88e1cd55e', 'Tesla P100-PCIE-16GB', '510.47.03', 16384, 26.16, 250, 38]);
  });

  it('Tesla T4 with two processes, GI/CI N/A', () => {
    const g = parseSmiXml(use('tesla-t4_2-processes_driver-515.105.01_q-x.xml')).gpus[0];
    expect([g?.uuid, g?.pciBusId, g?.memoryUsedMiB, g?.powerDrawW, g?.powerLimitW, g?.memClockMHz]).toEqual(['GPU-d37e67a5-91dd-3774-a5cb-99096249601a', '0000:00:1e.0', 1032, 26.78, 70, 5000]);
    expect(g?.processes).toEqual([
      { pid: 675, type: 'G', name: '/usr/lib/xorg/Xorg', usedMemoryMiB: 22, gpuInstanceId: null, computeInstanceId: null },
      { pid: 5762, type: 'C', name: 'python', usedMemoryMiB: 1005, gpuInstanceId: null, computeInstanceId: null },
    ]);
  });
});

describe('-L captures', () => {
  it('MIG profiles and UUIDs', () => {
    const expected = [{
      index: 0, model: 'NVIDIA H100 80GB HBM3', uuid: H100,
      mig: [
        { profile: '3g.40gb', index: 0, uuid: 'MIG-00000000-0000-0000-0000-000000000000' },
        { profile: '2g.20gb', index: 1, uuid: 'MIG-00000001-0000-0000-0000-000000000001' },
        { profile: '1g.10gb', index: 2, uuid: 'MIG-00000002-0000-0000-0000-000000000002' },
        { profile: '1g.10gb', index: 3, uuid: 'MIG-00000003-0000-0000-0000-000000000003' },
      ],
    }];
    expect(parseListGpus(use('h100-80gb-hbm3_mig-enabled_list-L.txt'))).toEqual(expected);
    expect(parseListGpus(useSection(FULL_MIG, 'capabilities :: list (-L)'))).toEqual(expected);
    expect(parseListGpus(useSection(FULL, 'capabilities :: list (-L)'))).toEqual([{ index: 0, model: 'NVIDIA H100 80GB HBM3', uuid: H100, mig: [] }]);
  });
});

describe('driver help (590.48.01)', () => {
  it('lists every field the agent queries', () => {
    const gpuHelp = use('h100_driver-590.48.01_help-query-gpu.txt');
    for (const f of new Set([...STATS_FIELDS, ...INVENTORY_FIELDS])) expect(gpuHelp).toContain(`"${f}"`);
    const appsHelp = use('h100_driver-590.48.01_help-query-compute-apps.txt');
    for (const f of COMPUTE_APPS_FIELDS) expect(appsHelp).toContain(`"${f}"`);
  });
});

describe('fixture coverage', () => {
  it('every capture file is exercised above', () => {
    expect(captureFiles().filter((f) => !covered.has(f))).toEqual([]);
  });
});

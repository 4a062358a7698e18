import { describe, expect, it } from 'vitest';
import { capture } from '../../test/gpu/captures.js';
import { mergeInventory } from './inventory.js';
import { parseInventoryCsv } from './query-gpu.js';
import { parseSmiXml } from './smi-xml.js';
import { parseListGpus } from './list-gpus.js';

const A100 = 'GPU-513536b6-7d19-9063-b049-1e69664bb298';
const H100 = 'GPU-00000000-0000-0000-0000-000000000000';
const a100Xml = capture('a100-sxm4-80gb-x4_mig-enabled_driver-535.54.03_q-x.xml');
const a100Row = { index: 0, uuid: A100, pciBusId: '0000:01:00.0', memoryTotalMiB: 81920, driverVersion: null, migEnabled: true, model: 'NVIDIA A100-SXM4-80GB' };

describe('mergeInventory', () => {
  it('takes GI/CI ids from -q -x (A100 capture) and the driver version from the XML when CSV lacks it', () => {
    const [gpu] = mergeInventory([a100Row], parseSmiXml(a100Xml));
    expect(gpu?.driverVersion).toBe('535.54.03');
    expect(gpu?.migDevices).toEqual([0, 1, 2, 3].map((i) => ({ index: i, uuid: null, profile: null, gpuInstanceId: i + 3, computeInstanceId: 0, memoryTotalMiB: 19968 })));
  });

  it('takes MIG UUIDs and profiles from -L (H100 capture)', () => {
    const rows = parseInventoryCsv(capture('h100-80gb-hbm3_mig-enabled_load_query-gpu-all-fields.csv'));
    const [gpu] = mergeInventory(rows, undefined, parseListGpus(capture('h100-80gb-hbm3_mig-enabled_list-L.txt')));
    expect(gpu?.migDevices.map((m) => [m.index, m.uuid, m.profile])).toEqual([
      [0, 'MIG-00000000-0000-0000-0000-000000000000', '3g.40gb'], [1, 'MIG-00000001-0000-0000-0000-000000000001', '2g.20gb'],
      [2, 'MIG-00000002-0000-0000-0000-000000000002', '1g.10gb'], [3, 'MIG-00000003-0000-0000-0000-000000000003', '1g.10gb'],
    ]);
  });

  it('joins both sources by parent UUID and MIG index', () => {
    const xml = parseSmiXml(a100Xml.replace(A100, H100));
    const [gpu] = mergeInventory([{ ...a100Row, uuid: H100 }], xml, parseListGpus(capture('h100-80gb-hbm3_mig-enabled_list-L.txt')));
    expect(gpu?.migDevices[1]).toEqual({ index: 1, uuid: 'MIG-00000001-0000-0000-0000-000000000001', profile: '2g.20gb', gpuInstanceId: 4, computeInstanceId: 0, memoryTotalMiB: 19968 });
  });

  it('lists no MIG devices on a GPU with MIG disabled', () => {
    const rows = parseInventoryCsv(capture('h100-80gb-hbm3_load_query-gpu-all-fields.csv'));
    expect(mergeInventory(rows, parseSmiXml(a100Xml))[0]?.migDevices).toEqual([]);
  });
});

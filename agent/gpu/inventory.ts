/** Builds the GPU inventory from the cheap CSV query plus, on MIG GPUs, `-q -x` and `-L`. Pure. */
import type { InventoryRow } from './query-gpu.js';
import type { SmiXmlReport } from './smi-xml.js';
import type { ListedGpu } from './list-gpus.js';
import type { GpuDevice, MigDevice } from './types.js';

/**
 * One GpuDevice per CSV row. MIG devices come from the XML (GPU-instance / compute-instance ids) and
 * from `-L` (MIG UUIDs and profiles), matched by parent GPU UUID and MIG device index; either may be absent.
 */
export function mergeInventory(rows: InventoryRow[], xml?: SmiXmlReport, listed?: ListedGpu[]): GpuDevice[] {
  return rows.map((row) => {
    const xmlGpu = xml?.gpus.find((g) => g.uuid === row.uuid);
    const listGpu = listed?.find((g) => g.uuid === row.uuid);
    const byIndex = new Map<number, MigDevice>();
    for (const m of xmlGpu?.migDevices ?? []) {
      if (m.index === null) continue;
      byIndex.set(m.index, { index: m.index, uuid: null, profile: null, gpuInstanceId: m.gpuInstanceId, computeInstanceId: m.computeInstanceId, memoryTotalMiB: m.memoryTotalMiB });
    }
    for (const m of listGpu?.mig ?? []) {
      const known = byIndex.get(m.index) ?? { index: m.index, uuid: null, profile: null, gpuInstanceId: null, computeInstanceId: null, memoryTotalMiB: null };
      byIndex.set(m.index, { ...known, uuid: m.uuid, profile: m.profile });
    }
    return {
      index: row.index,
      uuid: row.uuid,
      model: row.model,
      memoryTotalMiB: row.memoryTotalMiB,
      driverVersion: row.driverVersion ?? xml?.driverVersion ?? null,
      pciBusId: row.pciBusId,
      migEnabled: row.migEnabled ?? xmlGpu?.migEnabled ?? null,
      migDevices: row.migEnabled === true || xmlGpu?.migEnabled === true ? [...byIndex.values()].sort((a, b) => a.index - b.index) : [],
    };
  });
}

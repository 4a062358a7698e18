/** `nvidia-smi --query-compute-apps=...`: argv builder and pure parser. */
import { FoundryError } from '../../common/errors.js';
import { parseQueryCsv } from './csv.js';
import { cleanValue, parseInteger, parseNumber } from './values.js';
import type { GpuProcess } from './types.js';

/** Fields per process; `process_name` is last because a name may contain commas. */
export const COMPUTE_APPS_FIELDS = ['pid', 'gpu_uuid', 'used_gpu_memory', 'process_name'] as const;

/** argv for the per-process query. */
export function computeAppsArgs(): string[] {
  return [`--query-compute-apps=${COMPUTE_APPS_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];
}

const RESOURCE = 'nvidia-smi --query-compute-apps';

/** Parses per-process rows (with or without header/units); an empty output means no processes. */
export function parseComputeAppsCsv(text: string): GpuProcess[] {
  // "No running processes found" is what older drivers print instead of an empty list.
  if (/^\s*no running (compute )?processes found\s*$/i.test(text)) return [];
  const rows = parseQueryCsv(text, { fields: COMPUTE_APPS_FIELDS, freeText: 'process_name', resource: RESOURCE });
  return rows.map((r, i) => {
    const pid = parseInteger(r['pid']);
    // Captures made with other field lists may lack the gpu_uuid column: then it is null, not an error.
    const gpuUuid = cleanValue(r['gpu_uuid']);
    const badUuid = 'gpu_uuid' in r ? gpuUuid === null || !/^(GPU|MIG)-[0-9a-fA-F-]+$/.test(gpuUuid) : false;
    if (pid === null || pid <= 0 || badUuid) {
      throw new FoundryError('NVIDIA_SMI_PARSE', `unexpected nvidia-smi csv: process row ${i + 1} has no pid or gpu uuid`, { resource: RESOURCE, details: { row: i + 1 } });
    }
    return { pid, gpuUuid, name: cleanValue(r['process_name']), usedMemoryMiB: parseNumber(r['used_gpu_memory']) };
  });
}

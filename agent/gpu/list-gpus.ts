/** `nvidia-smi -L`: GPUs and their MIG devices with UUIDs and profiles. Pure parser. */

/** One GPU line of `-L` and the MIG lines under it. */
export interface ListedGpu {
  index: number;
  model: string;
  uuid: string;
  mig: Array<{ index: number; profile: string; uuid: string }>;
}

const GPU_LINE = /^GPU (\d+): (.+?) \(UUID: (GPU-[0-9a-fA-F-]+)\)\s*$/;
const MIG_LINE = /^\s+MIG (\S+)\s+Device\s+(\d+): \(UUID: (MIG-[0-9a-zA-Z/-]+)\)\s*$/;

/** Parses `nvidia-smi -L` output; lines it does not recognise are ignored. */
export function parseListGpus(text: string): ListedGpu[] {
  const gpus: ListedGpu[] = [];
  for (const line of text.split(/\r?\n/)) {
    const g = GPU_LINE.exec(line);
    if (g !== null) {
      gpus.push({ index: Number(g[1]), model: g[2] as string, uuid: g[3] as string, mig: [] });
      continue;
    }
    const m = MIG_LINE.exec(line);
    const parent = gpus[gpus.length - 1];
    if (m !== null && parent !== undefined) parent.mig.push({ profile: m[1] as string, index: Number(m[2]), uuid: m[3] as string });
  }
  return gpus;
}

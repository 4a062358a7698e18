/**
 * What the GPU module reports, modelled on a device plugin: a slow inventory (fingerprint) and periodic
 * samples (stats). Every reading nvidia-smi cannot give is null, never 0 or NaN.
 */
import type { GpuHealth } from './health.js';

/** A MIG device carved out of a GPU (GPU instance + compute instance). */
export interface MigDevice {
  /** MIG device index within its parent GPU, as in `nvidia-smi -L` and `<mig_device><index>`. */
  index: number;
  /** MIG-... UUID from `nvidia-smi -L`; null when only the XML was available. */
  uuid: string | null;
  /** Profile such as "3g.40gb" (from `-L`); null when unknown. */
  profile: string | null;
  gpuInstanceId: number | null;
  computeInstanceId: number | null;
  memoryTotalMiB: number | null;
}

/** One physical GPU in the inventory. */
export interface GpuDevice {
  index: number | null;
  uuid: string;
  model: string | null;
  memoryTotalMiB: number | null;
  driverVersion: string | null;
  /** Normalised "dddd:bb:dd.f" (lower case), the key for VM passthrough attribution. */
  pciBusId: string | null;
  /** null on GPUs without MIG support. */
  migEnabled: boolean | null;
  migDevices: MigDevice[];
}

/** The node's GPU inventory; `available: false` when there is no nvidia-smi or no GPU (zero GPUs). */
export interface GpuInventory {
  available: boolean;
  /** Why the inventory is empty, for logs and `foundry agent gpus`. */
  reason?: string;
  gpus: GpuDevice[];
}

/** One periodic reading of one GPU. */
export interface GpuSample {
  uuid: string;
  index: number | null;
  model: string | null;
  pciBusId: string | null;
  utilizationGpuPct: number | null;
  utilizationMemoryPct: number | null;
  memoryUsedMiB: number | null;
  memoryTotalMiB: number | null;
  powerDrawW: number | null;
  powerLimitW: number | null;
  temperatureC: number | null;
  smClockMHz: number | null;
  memClockMHz: number | null;
  /** Classified from the health fields (agent/gpu/health.ts); absent where the reading has none (XML). */
  health?: GpuHealth;
}

/** A process holding GPU memory, as the host sees it (host PID namespace). */
export interface GpuProcess {
  pid: number;
  /** Parent GPU UUID (on MIG GPUs nvidia-smi reports the parent here); null only in foreign captures without that column. */
  gpuUuid: string | null;
  name: string | null;
  usedMemoryMiB: number | null;
}

/** A poll: every GPU's sample and every compute process, at one time. */
export interface GpuStats {
  /** Epoch ms from the injected clock. */
  at: number;
  available: boolean;
  reason?: string;
  gpus: GpuSample[];
  processes: GpuProcess[];
}

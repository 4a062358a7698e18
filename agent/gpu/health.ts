/**
 * GPU health: what nvidia-smi's `--query-gpu` says about a GPU's reliability (ECC, retired pages, row
 * remapping, clock-event reasons, recovery action, a GPU lost from the bus), and a pure classifier that
 * turns one reading into healthy / degraded / unhealthy with the problems found. Rules (docs/gpu-health.md):
 *
 * - unhealthy (never offered to new workspaces): fallen_off_bus, reset_required, ecc_uncorrected
 *   (volatile uncorrected count > 0), retired_pages_pending, row_remap_pending, row_remap_failed;
 * - degraded (still placeable, shown and exported): thermal_throttle, power_brake, hw_slowdown;
 * - a value nvidia-smi reports as missing ([N/A], [Not Supported], ...) is null and never a problem.
 *
 * XID errors are not in `--query-gpu` (nor in `-q -x`): the conditions behind the fatal XIDs show up in the
 * fields read here (XID 79 = the GPU is lost, 48/94/95 = uncorrected ECC, 63/64 = row remapping).
 */
import { cleanValue, parseInteger } from './values.js';

/** Every problem the classifier names (also the `problem` label of foundry_gpu_health_problem). */
export const GPU_PROBLEMS = [
  'fallen_off_bus', 'reset_required', 'ecc_uncorrected', 'retired_pages_pending', 'row_remap_pending', 'row_remap_failed',
  'thermal_throttle', 'power_brake', 'hw_slowdown',
] as const;
/** One problem. */
export type GpuProblem = (typeof GPU_PROBLEMS)[number];

/** Problems that make a GPU unhealthy; every other problem only degrades it. */
export const UNHEALTHY_PROBLEMS: ReadonlySet<GpuProblem> = new Set<GpuProblem>([
  'fallen_off_bus', 'reset_required', 'ecc_uncorrected', 'retired_pages_pending', 'row_remap_pending', 'row_remap_failed',
]);

/** The classified health of one GPU. */
export interface GpuHealth {
  state: 'healthy' | 'degraded' | 'unhealthy';
  /** In GPU_PROBLEMS order; empty when healthy. */
  problems: GpuProblem[];
}

/** The health-relevant values of one GPU; null = not reported, not supported or not queried. */
export interface GpuHealthReading {
  /** nvidia-smi could not reach the GPU ("GPU is lost", "Unable to determine the device handle ..."). */
  lost: boolean;
  /** A value read "[GPU requires reset]". */
  requiresReset: boolean;
  eccUncorrectedVolatile: number | null;
  eccUncorrectedAggregate: number | null;
  eccCorrectedVolatile: number | null;
  retiredPagesPending: boolean | null;
  remappedRowsPending: boolean | null;
  remappedRowsFailure: boolean | null;
  hwSlowdown: boolean | null;
  hwThermalSlowdown: boolean | null;
  swThermalSlowdown: boolean | null;
  hwPowerBrakeSlowdown: boolean | null;
  /** gpu_recovery_action ("None", "Reset", "Reboot", "Drain P2P", "Drain and Reset"); driver 550+. */
  recoveryAction: string | null;
}

/** A reading with nothing known (all null), the base of the others. */
export function emptyHealthReading(): GpuHealthReading {
  return {
    lost: false, requiresReset: false, eccUncorrectedVolatile: null, eccUncorrectedAggregate: null, eccCorrectedVolatile: null,
    retiredPagesPending: null, remappedRowsPending: null, remappedRowsFailure: null,
    hwSlowdown: null, hwThermalSlowdown: null, swThermalSlowdown: null, hwPowerBrakeSlowdown: null, recoveryAction: null,
  };
}

/** "Yes"/"Active" → true, "No"/"Not Active" → false, anything else (N/A) → null. */
export function parseFlag(raw: string | undefined | null): boolean | null {
  const v = cleanValue(raw);
  if (v === null) return null;
  if (/^(yes|active)$/i.test(v)) return true;
  if (/^(no|not active)$/i.test(v)) return false;
  return null;
}

/** A counter; null when missing (an ECC count on a GPU with ECC off is [N/A]). */
export const parseCount = (raw: string | undefined | null): number | null => parseInteger(raw);

/** Classifies one reading. Pure; the same reading always gives the same answer. */
export function classifyHealth(r: GpuHealthReading): GpuHealth {
  const found = new Set<GpuProblem>();
  if (r.lost) found.add('fallen_off_bus');
  const recovery = r.recoveryAction?.trim().toLowerCase();
  if (r.requiresReset || (recovery !== undefined && recovery !== '' && recovery !== 'none')) found.add('reset_required');
  if ((r.eccUncorrectedVolatile ?? 0) > 0) found.add('ecc_uncorrected');
  if (r.retiredPagesPending === true) found.add('retired_pages_pending');
  if (r.remappedRowsPending === true) found.add('row_remap_pending');
  if (r.remappedRowsFailure === true) found.add('row_remap_failed');
  if (r.hwThermalSlowdown === true || r.swThermalSlowdown === true) found.add('thermal_throttle');
  if (r.hwPowerBrakeSlowdown === true) found.add('power_brake');
  // hw_slowdown is also set while thermal or power-brake slowdown is; alone it is its own problem
  if (r.hwSlowdown === true && !found.has('thermal_throttle') && !found.has('power_brake')) found.add('hw_slowdown');
  const problems = GPU_PROBLEMS.filter((p) => found.has(p));
  const state = problems.some((p) => UNHEALTHY_PROBLEMS.has(p)) ? 'unhealthy' : problems.length > 0 ? 'degraded' : 'healthy';
  return { state, problems };
}

/** The health of a GPU nvidia-smi could not reach at all. */
export function lostGpuHealth(): GpuHealth {
  return classifyHealth({ ...emptyHealthReading(), lost: true });
}

/** A GPU that nvidia-smi named as unreachable, by PCI bus id (normalised) and the reason it gave. */
export interface LostGpu {
  pciBusId: string;
  reason: string;
}

// "Unable to determine the device handle for GPU0000:00:09.0: Unknown Error" (older drivers put a space
// after "GPU"), or "... for GPU 0000:3B:00.0: GPU is lost.  Reboot the system to recover this GPU".
const DEVICE_HANDLE = /^Unable to (?:determine|detect) the device handle for GPU\s*([0-9a-fA-F]{4,8}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7]):\s*(.*)$/;

/**
 * Splits nvidia-smi output into the lines about GPUs it could not reach and the rest (the CSV to parse).
 * nvidia-smi prints such a line instead of that GPU's row and goes on with the other GPUs.
 */
export function splitLostGpus(text: string): { rest: string; lost: LostGpu[] } {
  const lost: LostGpu[] = [];
  const rest: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = DEVICE_HANDLE.exec(line.trim());
    if (m === null) { rest.push(line); continue; }
    const pciBusId = `${(m[1] as string).slice(-4)}:${m[2]}:${m[3]}.${m[4]}`.toLowerCase();
    if (!lost.some((l) => l.pciBusId === pciBusId)) lost.push({ pciBusId, reason: (m[5] as string).trim().slice(0, 120) });
  }
  return { rest: rest.join('\n'), lost };
}

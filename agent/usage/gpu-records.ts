/**
 * Pure: allocation observations and GPU samples over a window → usage records. The window is cut into
 * slots of `resolutionMs`. A (workspace, GPU) pair is billed for a slot only when the slot holds at least
 * one observation and every observation in it shows the workspace running with that GPU: a slot nobody
 * observed (agent down, node gone) is never billed, and a start or stop costs at most one slot, in the
 * customer's favour. Contiguous slots merge into one record.
 */
import type { AllocationObservation, UsageRecord, UtilizationSample } from './usage-types.js';
import { compareText } from '../../common/text-order.js';

/** Input of usageRecords. */
export interface UsageWindow {
  node: string;
  /** Window start (inclusive) and end (exclusive), epoch ms; the end is cut down to whole slots. */
  fromMs: number;
  toMs: number;
  resolutionMs: number;
  observations: AllocationObservation[];
  samples: UtilizationSample[];
}

interface Held { workspace: string; tenant: string; gpuUuid: string; gpuModel: string | null }

// Pairs held throughout one slot: present and running in every observation of the slot.
function heldInSlot(obs: AllocationObservation[]): Map<string, Held> {
  let held: Map<string, Held> | undefined;
  for (const o of obs) {
    const now = new Map<string, Held>();
    for (const w of o.workspaces) {
      if (!w.running) continue;
      for (const g of w.gpus) now.set(JSON.stringify([w.workspace, g.uuid]), { workspace: w.workspace, tenant: w.tenant, gpuUuid: g.uuid, gpuModel: g.model });
    }
    held = held === undefined ? now : new Map([...held].filter(([k]) => now.has(k)));
  }
  return held ?? new Map();
}

function average(samples: UtilizationSample[], uuid: string, fromMs: number, toMs: number): { avg: number | null; n: number } {
  let sum = 0;
  let n = 0;
  for (const s of samples) {
    if (s.at < fromMs || s.at >= toMs) continue;
    for (const g of s.gpus) {
      if (g.uuid === uuid && g.utilizationGpuPct !== null && Number.isFinite(g.utilizationGpuPct)) { sum += g.utilizationGpuPct; n++; }
    }
  }
  return { avg: n === 0 ? null : Math.round((sum / n) * 100) / 100, n };
}

/**
 * The slot rule shared by every record kind: cuts the window into slots, asks `heldInSlot` what was held
 * throughout each (by key), and merges contiguous slots of a key while `continues(run, now)` holds.
 */
export function slotRuns<H extends object>(w: UsageWindow, heldInSlot: (obs: AllocationObservation[]) => Map<string, H>, continues: (run: H, now: H) => boolean): Array<H & { fromMs: number; toMs: number }> {
  const res = w.resolutionMs;
  if (!(res > 0) || w.toMs <= w.fromMs) return [];
  const slots = Math.floor((w.toMs - w.fromMs) / res);
  const open = new Map<string, H & { fromMs: number; toMs: number }>();
  const done: Array<H & { fromMs: number; toMs: number }> = [];
  for (let i = 0; i < slots; i++) {
    const s = w.fromMs + i * res;
    const held = heldInSlot(w.observations.filter((o) => o.at >= s && o.at < s + res));
    for (const [k, run] of open) {
      const h = held.get(k);
      if (h !== undefined && continues(run, h)) run.toMs = s + res;
      else {
        done.push(run);
        open.delete(k);
      }
    }
    for (const [k, h] of held) if (!open.has(k)) open.set(k, { ...h, fromMs: s, toMs: s + res });
  }
  return [...done, ...open.values()];
}

/** Usage records for the window, sorted by start, workspace and GPU. */
export function usageRecords(w: UsageWindow): UsageRecord[] {
  return slotRuns(w, heldInSlot, (run, h) => run.tenant === h.tenant)
    .map((r): UsageRecord => {
      const m = average(w.samples, r.gpuUuid, r.fromMs, r.toMs);
      return {
        kind: 'gpu-allocation', version: 1, key: `${w.node}/${r.workspace}/${r.gpuUuid}/${r.fromMs}`,
        node: w.node, workspace: r.workspace, tenant: r.tenant, gpuUuid: r.gpuUuid, gpuModel: r.gpuModel,
        from: r.fromMs, to: r.toMs, fromIso: new Date(r.fromMs).toISOString(), toIso: new Date(r.toMs).toISOString(),
        seconds: (r.toMs - r.fromMs) / 1000, measuredAvgUtilizationPct: m.avg, measuredSamples: m.n,
      };
    })
    .sort((a, b) => a.from - b.from || compareText(a.workspace, b.workspace) || compareText(a.gpuUuid, b.gpuUuid));
}

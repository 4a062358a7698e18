/**
 * One look at the node's GPUs for admins (`foundry agent gpus`): inventory, one sample, and who uses
 * each GPU. Pure formatting lives here too so the CLI module stays a thin edge.
 */
import type { NvidiaGpuPlugin } from './nvidia-plugin.js';
import { attributeGpus, attributeProcesses, type AttributedProcess, type GpuAttribution, type ContainerLabelsLookup, type VmGpuOwners } from './attribution.js';
import type { GpuInventory, GpuStats } from './types.js';

/** Everything `foundry agent gpus` shows. */
export interface GpuReport {
  inventory: GpuInventory;
  sample: Omit<GpuStats, 'processes'>;
  processes: AttributedProcess[];
  gpus: GpuAttribution[];
  /** Where labels came from: "podman at <socket>" or why attribution to workspaces was impossible. */
  attribution: { podman: 'available' | 'unavailable'; detail: string };
}

/** Inputs of buildGpuReport. */
export interface GpuReportOptions {
  plugin: NvidiaGpuPlugin;
  labelsOf?: ContainerLabelsLookup;
  /** Why labelsOf is absent (e.g. "podman unavailable at /run/podman/podman.sock"). */
  unavailableReason?: string;
  procRoot?: string;
  vmOwners?: VmGpuOwners;
}

/** Takes the inventory and one attributed sample. */
export async function buildGpuReport(o: GpuReportOptions): Promise<GpuReport> {
  const inventory = await o.plugin.fingerprint();
  const { processes, ...sample } = await o.plugin.stats();
  const attributed = await attributeProcesses(processes, { procRoot: o.procRoot, labelsOf: o.labelsOf, unavailableReason: o.unavailableReason });
  return {
    inventory,
    sample,
    processes: attributed,
    gpus: attributeGpus(sample.gpus, attributed, o.vmOwners),
    attribution: o.labelsOf !== undefined ? { podman: 'available', detail: 'labels from podman' } : { podman: 'unavailable', detail: o.unavailableReason ?? 'podman unavailable' },
  };
}

const dash = (v: number | string | null | undefined, unit = ''): string => (v === null || v === undefined ? '-' : `${v}${unit}`);

function owner(a: AttributedProcess['attribution']): string {
  if (a.kind === 'workspace') return `workspace ${a.workspace}${a.tenant !== undefined ? ` (tenant ${a.tenant})` : ''}`;
  if (a.kind === 'service') return `service ${a.service}`;
  if (a.kind === 'vm') return `vm of workspace ${a.workspace}`;
  return `${a.kind === 'container' ? `container ${a.containerId?.slice(0, 12)}: ` : 'unattributed: '}${a.reason ?? ''}`;
}

/** The report as text for a terminal. */
export function formatGpuReport(r: GpuReport): string {
  const lines: string[] = [];
  if (!r.inventory.available) {
    lines.push(`no gpus: ${r.inventory.reason ?? 'none found'}`);
    return `${lines.join('\n')}\n`;
  }
  for (const g of r.inventory.gpus) {
    const s = r.sample.gpus.find((x) => x.uuid === g.uuid);
    lines.push(`GPU ${dash(g.index)}  ${dash(g.model)}  ${g.uuid}  pci ${dash(g.pciBusId)}  driver ${dash(g.driverVersion)}  mig ${g.migEnabled === null ? 'n/a' : g.migEnabled ? 'enabled' : 'disabled'}`);
    if (s !== undefined) {
      lines.push(`  health ${s.health === undefined ? 'unknown' : `${s.health.state}${s.health.problems.length > 0 ? ` (${s.health.problems.join(', ')})` : ''}`}`);
      lines.push(`  util ${dash(s.utilizationGpuPct, '%')} (mem ${dash(s.utilizationMemoryPct, '%')})  memory ${dash(s.memoryUsedMiB)}/${dash(s.memoryTotalMiB ?? g.memoryTotalMiB)} MiB  power ${dash(s.powerDrawW, ' W')}/${dash(s.powerLimitW, ' W')}  temp ${dash(s.temperatureC, ' C')}  clocks sm ${dash(s.smClockMHz, ' MHz')} mem ${dash(s.memClockMHz, ' MHz')}`);
    } else {
      lines.push('  not in the sample (gone since the inventory?)');
    }
    for (const m of g.migDevices) lines.push(`  MIG ${m.index} ${dash(m.profile)} ${dash(m.uuid)}  gi ${dash(m.gpuInstanceId)} ci ${dash(m.computeInstanceId)}  ${dash(m.memoryTotalMiB)} MiB`);
    const procs = r.processes.filter((p) => p.gpuUuid === g.uuid);
    if (procs.length === 0) lines.push('  no compute processes');
    for (const p of procs) lines.push(`  pid ${p.pid}  ${dash(p.usedMemoryMiB)} MiB  ${dash(p.name)}  -> ${owner(p.attribution)}`);
  }
  if (r.attribution.podman === 'unavailable') lines.push(`attribution: ${r.attribution.detail}`);
  return `${lines.join('\n')}\n`;
}

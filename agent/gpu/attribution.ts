/**
 * Who uses a GPU: each compute process is traced from its host PID to a Podman container (cgroup) and
 * from the container's ownership labels to the workspace and tenant. A GPU passed through to a VM is
 * attributed by its PCI address. Nothing is dropped: what cannot be traced is reported as unattributed.
 */
import { LABELS, MANAGED_BY } from '../labels.js';
import { errorMessage } from '../../common/errors.js';
import { containerFromCgroup, readProcCgroup } from './cgroup.js';
import { normalizePciBusId } from './values.js';
import type { GpuProcess, GpuSample } from './types.js';

/** Labels of a container by id; undefined when there is no such container. Provided by the Podman side. */
export type ContainerLabelsLookup = (containerId: string) => Promise<Record<string, string> | undefined>;

/** Owner of a VM-passthrough GPU, keyed by PCI address in `VmGpuOwners`. */
export interface VmGpuOwner {
  workspace: string;
  tenant?: string;
}

/** PCI address ("0000:01:00.0", any case, 4- or 8-digit domain) → owner. */
export type VmGpuOwners = Record<string, VmGpuOwner>;

/** The outcome for one process or GPU. `kind: 'unattributed'` always carries a reason. */
export interface Attribution {
  kind: 'workspace' | 'service' | 'container' | 'vm' | 'unattributed';
  workspace?: string;
  tenant?: string;
  service?: string;
  containerId?: string;
  podId?: string;
  pciBusId?: string;
  reason?: string;
}

/** A GPU process with its attribution. */
export interface AttributedProcess extends GpuProcess {
  attribution: Attribution;
}

/** Collaborators; all optional so a bare host still gets every process back (unattributed). */
export interface AttributionDeps {
  /** Root of the proc filesystem (tests point it at a synthetic tree). */
  procRoot?: string;
  /** Container labels; when absent, container processes are unattributed with `unavailableReason`. */
  labelsOf?: ContainerLabelsLookup;
  /** Reason given when `labelsOf` is absent (default "podman unavailable"). */
  unavailableReason?: string;
}

/** Attribution from a container's labels (ours: workspace or service; someone else's: plain container). */
export function attributionFromLabels(containerId: string, podId: string | undefined, labels: Record<string, string>): Attribution {
  const base = { containerId, ...(podId !== undefined ? { podId } : {}) };
  if (labels[LABELS.managedBy] !== MANAGED_BY) return { kind: 'container', ...base, reason: 'container not managed by foundry' };
  const workspace = labels[LABELS.workspace];
  const tenant = labels[LABELS.tenant];
  if (workspace !== undefined) return { kind: 'workspace', workspace, ...(tenant !== undefined ? { tenant } : {}), ...base };
  const service = labels[LABELS.service];
  if (service !== undefined) return { kind: 'service', service, ...base };
  return { kind: 'container', ...base, reason: 'foundry container without workspace or service label' };
}

/** Attributes every process (same order, none dropped). Label lookups are made once per container. */
export async function attributeProcesses(processes: GpuProcess[], deps: AttributionDeps = {}): Promise<AttributedProcess[]> {
  const labelCache = new Map<string, Promise<Record<string, string> | undefined>>();
  return Promise.all(processes.map(async (p): Promise<AttributedProcess> => {
    const cgroup = await readProcCgroup(p.pid, deps.procRoot);
    if (cgroup === undefined) return { ...p, attribution: { kind: 'unattributed', reason: 'process exited' } };
    const c = containerFromCgroup(cgroup);
    if (c === undefined) return { ...p, attribution: { kind: 'unattributed', reason: 'host process, not in a container' } };
    const base = { containerId: c.containerId, ...(c.podId !== undefined ? { podId: c.podId } : {}) };
    if (deps.labelsOf === undefined) return { ...p, attribution: { kind: 'unattributed', ...base, reason: deps.unavailableReason ?? 'podman unavailable' } };
    let pending = labelCache.get(c.containerId);
    if (pending === undefined) {
      pending = deps.labelsOf(c.containerId);
      labelCache.set(c.containerId, pending);
    }
    try {
      const labels = await pending;
      if (labels === undefined) return { ...p, attribution: { kind: 'unattributed', ...base, reason: 'container not found' } };
      return { ...p, attribution: attributionFromLabels(c.containerId, c.podId, labels) };
    } catch (err) {
      return { ...p, attribution: { kind: 'unattributed', ...base, reason: `container lookup failed: ${errorMessage(err).toLowerCase()}` } };
    }
  }));
}

/** Per GPU: who holds it. VM passthrough by PCI address first, then the workspaces of its processes. */
export interface GpuAttribution {
  uuid: string | null;
  pciBusId: string | null;
  holders: Attribution[];
}

/**
 * Attribution per GPU from the samples, the attributed processes and the VM passthrough map. A VM GPU
 * is usually invisible to the host's nvidia-smi (bound to vfio-pci), so VM owners without a matching
 * sample are listed too, with uuid null.
 */
export function attributeGpus(gpus: Pick<GpuSample, 'uuid' | 'pciBusId'>[], processes: AttributedProcess[], vmOwners: VmGpuOwners = {}): GpuAttribution[] {
  const vm = new Map<string, VmGpuOwner>();
  for (const [pci, owner] of Object.entries(vmOwners)) {
    const key = normalizePciBusId(pci);
    if (key !== null) vm.set(key, owner);
  }
  const seen = new Set<string>();
  const out: GpuAttribution[] = gpus.map((g) => {
    const holders: Attribution[] = [];
    const owner = g.pciBusId !== null ? vm.get(g.pciBusId) : undefined;
    if (owner !== undefined && g.pciBusId !== null) {
      seen.add(g.pciBusId);
      holders.push({ kind: 'vm', workspace: owner.workspace, ...(owner.tenant !== undefined ? { tenant: owner.tenant } : {}), pciBusId: g.pciBusId });
    }
    const keys = new Set<string>();
    for (const p of processes) {
      if (p.gpuUuid !== g.uuid) continue;
      const key = JSON.stringify([p.attribution.kind, p.attribution.workspace, p.attribution.service, p.attribution.containerId, p.attribution.reason]);
      if (!keys.has(key)) { keys.add(key); holders.push(p.attribution); }
    }
    return { uuid: g.uuid, pciBusId: g.pciBusId, holders };
  });
  for (const [pci, owner] of vm) {
    if (!seen.has(pci)) out.push({ uuid: null, pciBusId: pci, holders: [{ kind: 'vm', workspace: owner.workspace, ...(owner.tenant !== undefined ? { tenant: owner.tenant } : {}), pciBusId: pci }] });
  }
  return out;
}

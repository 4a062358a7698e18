/**
 * Pure: which workspace is placed where at one revision of the infra repo, from the YAML documents of
 * that revision (Workspace, WorkspaceTemplate, Node). Tolerant: a document that does not parse or lacks
 * a field counts as absent (the pre-receive hook keeps invalid revisions out of the hosted repo anyway).
 */
import { LineCounter, parseAllDocuments } from 'yaml';
import { yamlHygieneIssues } from '../../common/infra/yaml-hygiene.js';
import { parseQuantity } from '../../common/units.js';
import type { TemplateLimits } from './admission.js';

/** The documents of one file that placement history reads. */
export interface PlacementDoc {
  kind: 'Workspace' | 'WorkspaceTemplate' | 'Node';
  name: string;
  spec: Record<string, unknown>;
}

/** Where one workspace is at one revision. */
export interface Placement {
  tenant: string;
  node: string | undefined;
  gpuUuids: string[];
  running: boolean;
  template: string;
  limits: TemplateLimits;
}

const KINDS = new Set(['Workspace', 'WorkspaceTemplate', 'Node']);
const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);
const bytes = (v: unknown): number => {
  if (typeof v === 'number') return num(v);
  if (typeof v !== 'string') return 0;
  try {
    return parseQuantity(v);
  } catch {
    return 0;
  }
};

/** The Workspace, WorkspaceTemplate and Node documents of one YAML file (others and broken ones skipped). */
export function parsePlacementDocs(text: string): PlacementDoc[] {
  const out: PlacementDoc[] = [];
  const lineCounter = new LineCounter();
  let docs;
  try {
    // Not the library's uniqueKeys: quadratic in the keys of a mapping, and this runs on the hub's event
    // loop after each push (a 1 MiB file with 70,000 keys stalled it for minutes). The linear check instead.
    docs = parseAllDocuments(text, { lineCounter, uniqueKeys: false });
  } catch {
    return out;
  }
  for (const d of Array.isArray(docs) ? docs : [docs]) {
    if (d.errors.length > 0 || yamlHygieneIssues(d, lineCounter, '', text).length > 0) continue;
    let js: unknown;
    try {
      js = d.toJS();
    } catch {
      continue;
    }
    const o = obj(js);
    const kind = str(o.kind);
    const name = str(obj(o.metadata).name);
    if (kind === undefined || !KINDS.has(kind) || name === undefined) continue;
    out.push({ kind: kind as PlacementDoc['kind'], name, spec: obj(o.spec) });
  }
  return out;
}

/** Upper bounds a template declares: vCPUs and memory of its containers and VM, its VM's disk. */
export function templateLimits(spec: Record<string, unknown> | undefined): TemplateLimits {
  let cpus = 0;
  let memoryBytes = 0;
  for (const c of Array.isArray(spec?.containers) ? spec.containers : []) {
    const r = obj(obj(c).resources);
    cpus += num(r.cpus);
    memoryBytes += bytes(r.memory);
  }
  const vm = obj(spec?.vm);
  // the agent renders a VM without vcpus with 2 (agent/render.ts)
  if (spec?.vm !== undefined) cpus += vm.vcpus === undefined ? 2 : num(vm.vcpus);
  memoryBytes += bytes(vm.memory);
  return { milliVcpus: Math.round(cpus * 1000), memoryBytes: Math.round(memoryBytes), storageBytes: Math.round(bytes(obj(vm.disk).size)) };
}

/** The template a Workspace document names ('' when none). */
export function templateOf(w: PlacementDoc): string {
  return str(w.spec.template) ?? '';
}

/** The placement of one Workspace document, with the limits of its template (templates by name). */
export function placementOf(w: PlacementDoc, templates: ReadonlyMap<string, Record<string, unknown>>): Placement {
  const template = templateOf(w);
  const uuids = obj(w.spec.gpus).uuids;
  return {
    tenant: str(w.spec.tenant) ?? '',
    node: str(w.spec.node),
    gpuUuids: Array.isArray(uuids) ? uuids.filter((u): u is string => typeof u === 'string').sort() : [],
    running: (str(w.spec.state) ?? 'running') === 'running',
    template,
    limits: templateLimits(templates.get(template)),
  };
}

/** Every workspace of a revision and its placement, by workspace name. */
export function placementsOf(docs: Iterable<PlacementDoc>): Map<string, Placement> {
  const templates = new Map<string, Record<string, unknown>>();
  const workspaces: PlacementDoc[] = [];
  for (const d of docs) {
    if (d.kind === 'WorkspaceTemplate') templates.set(d.name, d.spec);
    else if (d.kind === 'Workspace') workspaces.push(d);
  }
  return new Map(workspaces.map((w) => [w.name, placementOf(w, templates)]));
}

/** GPU models each Node document declares: node → (uuid → model). */
export function declaredGpuModels(docs: Iterable<PlacementDoc>): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const d of docs) {
    if (d.kind !== 'Node') continue;
    const m = new Map<string, string>();
    for (const g of Array.isArray(d.spec.gpus) ? d.spec.gpus : []) {
      const uuid = str(obj(g).uuid);
      const model = str(obj(g).model);
      if (uuid !== undefined && model !== undefined) m.set(uuid, model);
    }
    out.set(d.name, m);
  }
  return out;
}

/** True when two placements bill the same way (same node, tenant, GPUs, state and limits). */
export function samePlacement(a: Placement, b: Placement): boolean {
  return a.tenant === b.tenant && a.node === b.node && a.running === b.running && a.gpuUuids.join(',') === b.gpuUuids.join(',')
    && a.limits.milliVcpus === b.limits.milliVcpus && a.limits.memoryBytes === b.limits.memoryBytes && a.limits.storageBytes === b.limits.storageBytes;
}

/**
 * Which nodes need which repo secret: a secret goes to exactly the nodes where a workload that refers
 * to it is placed (a profile's baseline on every node of that profile, a service on the nodes it
 * targets, a workspace on its spec.node). Pure, over a loaded repo; `foundry secret encrypt` encrypts to
 * these nodes and validation checks that each of them is a recipient.
 */
import { selectorMatches } from '../infra/host-ports.js';
import type { InfraRepo, Located, PathSegment } from '../infra/model.js';
import { profileContainers, profileFlag } from '../infra/profile-chain.js';

/** One reference to a repo secret by a workload placed on a node. */
export interface SecretUse {
  secret: string;
  node: string;
  /** The workload, e.g. "workspace acme-alice, container langfuse" (for messages). */
  workload: string;
  /** The document and path of the reference (`spec.containers[0].secrets[1]`), for file:line. */
  loc: Located<unknown>;
  path: PathSegment[];
}

/** Who needs a secret: the nodes (sorted) and the workloads, e.g. "service langfuse, container web". */
export interface SecretNeed {
  nodes: string[];
  workloads: string[];
}

interface Workload {
  label: string;
  loc: Located<unknown>;
  /** Each container with its path in `loc`. */
  containers: { c: { name: string; secrets?: { name: string; source?: string }[] }; path: PathSegment[] }[];
  vm: { name: string; cloudInit?: { secrets?: { name: string; source?: string }[] } } | undefined;
  vmPath: PathSegment[];
}

/** Every repo-secret reference of every workload placed on a node (source repo only; workspace secrets come from the hub). */
export function secretUses(repo: InfraRepo): SecretUse[] {
  const uses: SecretUse[] = [];
  for (const [nodeName, nodeLoc] of repo.nodes) {
    for (const w of workloadsOn(repo, nodeName, nodeLoc.doc.spec.profile, nodeLoc.doc.spec.labels ?? {})) {
      for (const { c, path } of w.containers) {
        (c.secrets ?? []).forEach((s, j) => {
          if ((s.source ?? 'repo') !== 'repo') return;
          uses.push({ secret: s.name, node: nodeName, workload: `${w.label}, container ${c.name}`, loc: w.loc, path: [...path, 'secrets', j] });
        });
      }
      (w.vm?.cloudInit?.secrets ?? []).forEach((s, j) => {
        if ((s.source ?? 'repo') !== 'repo') return;
        uses.push({ secret: s.name, node: nodeName, workload: `${w.label}, vm ${w.vm!.name}`, loc: w.loc, path: [...w.vmPath, 'cloudInit', 'secrets', j] });
      });
    }
  }
  return uses;
}

/** secretName → the nodes that need it and the workloads that refer to it. */
export function secretRecipients(repo: InfraRepo): Map<string, SecretNeed> {
  const out = new Map<string, { nodes: Set<string>; workloads: Set<string> }>();
  for (const u of secretUses(repo)) {
    const e = out.get(u.secret) ?? { nodes: new Set(), workloads: new Set() };
    e.nodes.add(u.node);
    e.workloads.add(`${u.workload} on ${u.node}`);
    out.set(u.secret, e);
  }
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, { nodes: [...v.nodes].sort(), workloads: [...v.workloads].sort() }]));
}

function workloadsOn(repo: InfraRepo, nodeName: string, profile: string, labels: Record<string, string>): Workload[] {
  const out: Workload[] = [];
  for (const ref of profileContainers(repo, profile)) {
    out.push({ label: `profile ${profile}`, loc: ref.loc, containers: [{ c: ref.container, path: ref.path }], vm: undefined, vmPath: [] });
  }
  const hostsServices = profileFlag(repo, profile, 'hostsServices') !== false;
  for (const [name, loc] of repo.services) {
    const { placement } = loc.doc.spec;
    const here = placement.node === nodeName || (placement.nodeSelector !== undefined && hostsServices && selectorMatches(placement.nodeSelector, { spec: { profile, labels } } as never));
    if (!here) continue;
    out.push({ label: `service ${name}`, loc, containers: listed(loc.doc.spec.containers), vm: loc.doc.spec.vm, vmPath: ['spec', 'vm'] });
  }
  for (const [name, loc] of repo.workspaces) {
    if (loc.doc.spec.node !== nodeName) continue;
    const template = repo.templates.get(loc.doc.spec.template);
    if (template === undefined) continue;
    out.push({ label: `workspace ${name} (template ${loc.doc.spec.template})`, loc: template, containers: listed(template.doc.spec.containers), vm: template.doc.spec.vm, vmPath: ['spec', 'vm'] });
  }
  return out;
}

function listed(containers: Workload['containers'][number]['c'][] | undefined): Workload['containers'] {
  return (containers ?? []).map((c, i) => ({ c, path: ['spec', 'containers', i] }));
}

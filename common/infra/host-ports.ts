/**
 * Host port clashes: on each node, the profile's baseline containers, the services that land there and
 * the workspaces placed there may not publish the same host port and protocol on overlapping addresses.
 */
import { issueAt, positionOf, where } from './issue-at.js';
import type { InfraIssue, InfraRepo, Located, Node, Workspace } from './model.js';
import { profileContainers, profileFlag, type ContainerRef } from './profile-chain.js';

interface Claim {
  port: number;
  protocol: string;
  hostIp: string | undefined;
  /** "workspace alice, container flowise" */
  owner: string;
  /** Where the port is declared. */
  ref: ContainerRef;
  portIndex: number;
  /** Where to report a clash this claim causes (workspaces: their spec.node; others: the port). */
  report: { loc: Located<unknown>; path: (string | number)[] };
}

/** True when every selector label is present on the node with the same value. */
export function selectorMatches(selector: Record<string, string>, node: Node): boolean {
  const labels = node.spec.labels ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Reports every host port claimed twice on one node (reported once per pair of places). */
export function checkHostPorts(repo: InfraRepo, issues: InfraIssue[]): void {
  const reported = new Set<string>();
  const workspacesByNode = new Map<string, [string, Located<Workspace>][]>();
  for (const [name, loc] of repo.workspaces) {
    const node = loc.doc.spec.node;
    if (node !== undefined) workspacesByNode.set(node, [...(workspacesByNode.get(node) ?? []), [name, loc]]);
  }
  for (const [nodeName, nodeLoc] of repo.nodes) {
    const byKey = new Map<string, Claim[]>();
    for (const claim of claimsOn(repo, nodeName, nodeLoc.doc, workspacesByNode.get(nodeName) ?? [])) {
      const key = `${claim.port}/${claim.protocol}`;
      const earlier = byKey.get(key) ?? [];
      const clash = earlier.find((c) => addressesOverlap(c.hostIp, claim.hostIp));
      if (clash !== undefined) {
        const first = positionOf(clash.ref.loc, [...clash.ref.path, 'ports', clash.portIndex]);
        const own = positionOf(claim.ref.loc, [...claim.ref.path, 'ports', claim.portIndex]);
        const id = `${where(first)}|${where(own)}|${claim.owner}|${clash.owner}`;
        if (!reported.has(id)) {
          reported.add(id);
          const declared = claim.report.loc === claim.ref.loc ? '' : ` (declared at ${where(own)})`;
          issues.push(issueAt('INFRA_CONFLICT', claim.report.loc, claim.report.path, `host port ${key} of ${claim.owner}${declared} on node ${nodeName} is already claimed by ${clash.owner} (${where(first)})`));
        }
      }
      byKey.set(key, [...earlier, claim]);
    }
  }
}

function addressesOverlap(a: string | undefined, b: string | undefined): boolean {
  const any = (ip: string | undefined) => ip === undefined || ip === '' || ip === '0.0.0.0' || ip === '::';
  return any(a) || any(b) || a === b;
}

/** Every host port claimed on the node: profile baseline, then services, then workspaces. */
function claimsOn(repo: InfraRepo, nodeName: string, node: Node, workspaces: [string, Located<Workspace>][]): Claim[] {
  const claims: Claim[] = [];
  for (const ref of profileContainers(repo, node.spec.profile)) {
    claims.push(...portsOf(ref, `profile ${node.spec.profile}, container ${ref.container.name}`, undefined));
  }
  const hostsServices = profileFlag(repo, node.spec.profile, 'hostsServices') !== false;
  for (const [name, loc] of repo.services) {
    const { placement } = loc.doc.spec;
    const here = placement.node === nodeName || (placement.nodeSelector !== undefined && hostsServices && selectorMatches(placement.nodeSelector, node));
    if (!here) continue;
    (loc.doc.spec.containers ?? []).forEach((container, i) => {
      claims.push(...portsOf({ container, loc, path: ['spec', 'containers', i] }, `service ${name}, container ${container.name}`, undefined));
    });
  }
  for (const [name, loc] of workspaces) {
    const template = repo.templates.get(loc.doc.spec.template);
    if (template === undefined) continue;
    (template.doc.spec.containers ?? []).forEach((container, i) => {
      const ref = { container, loc: template, path: ['spec', 'containers', i] };
      // Workspace ports without hostIp are published on the node's internal address (agent/render.ts).
      claims.push(...portsOf(ref, `workspace ${name}, container ${container.name}`, { loc, path: ['spec', 'node'] }, node.spec.network?.internalAddress ?? '127.0.0.1'));
    });
  }
  return claims;
}

function portsOf(ref: ContainerRef, owner: string, report: Claim['report'] | undefined, defaultHostIp?: string): Claim[] {
  const c = ref.container;
  return (c.ports ?? []).flatMap((p, portIndex) => {
    // With hostNetwork the container's own port is a port of the node.
    const port = p.hostPort ?? (c.hostNetwork === true ? p.containerPort : undefined);
    if (port === undefined) return [];
    return [{ port, protocol: p.protocol ?? 'tcp', hostIp: p.hostIp ?? defaultHostIp, owner, ref, portIndex, report: report ?? { loc: ref.loc, path: [...ref.path, 'ports', portIndex] } }];
  });
}

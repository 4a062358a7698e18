/**
 * Profile `extends` chains with the origin of every container, so cross-checks can point at the file
 * that declares a baseline container even when a repo profile inherits it from a built-in.
 */
import type { Container, InfraRepo, Located, NodeProfile, PathSegment } from './model.js';

/** A container of a profile, unit or template with the document and path that declare it. */
export interface ContainerRef {
  container: Container;
  loc: Located<unknown>;
  path: PathSegment[];
}

/** The chain of profile names from `name` up its `extends`; `cycle` is set when a name repeats, `missing` when a parent is unknown. */
export function profileChain(repo: InfraRepo, name: string): { chain: string[]; cycle: boolean; missing: string | undefined } {
  const chain: string[] = [];
  let current: string | undefined = name;
  while (current !== undefined) {
    if (chain.includes(current)) return { chain: [...chain, current], cycle: true, missing: undefined };
    const found: Located<NodeProfile> | undefined = repo.profiles.get(current);
    if (found === undefined) return { chain, cycle: false, missing: current };
    chain.push(current);
    current = found.doc.spec.extends;
  }
  return { chain, cycle: false, missing: undefined };
}

/** Effective containers of profile `name`, parents first, a child's container replacing the parent's of the same name. Empty for broken chains. */
export function profileContainers(repo: InfraRepo, name: string): ContainerRef[] {
  const { chain, cycle, missing } = profileChain(repo, name);
  if (cycle || missing !== undefined) return [];
  const byName = new Map<string, ContainerRef>();
  for (const pname of [...chain].reverse()) {
    const loc = repo.profiles.get(pname)!;
    (loc.doc.spec.containers ?? []).forEach((container, i) => {
      byName.delete(container.name);
      byName.set(container.name, { container, loc, path: ['spec', 'containers', i] });
    });
  }
  return [...byName.values()];
}

/** Whether the effective profile `name` has `flag` set to false explicitly (the nearest setting in the chain wins). */
export function profileFlag(repo: InfraRepo, name: string, flag: 'hostsWorkspaces' | 'hostsServices'): boolean | undefined {
  for (const pname of profileChain(repo, name).chain) {
    const value = repo.profiles.get(pname)?.doc.spec[flag];
    if (value !== undefined) return value;
  }
  return undefined;
}

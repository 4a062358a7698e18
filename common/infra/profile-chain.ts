/**
 * Profile `extends`, resolved in this one place for the agent (render), the hub (scheduler) and the
 * cross-checks: the chain, the effective containers with the origin of each (so cross-checks can point at
 * the file that declares a baseline container even when a repo profile inherits it from a built-in), the
 * nearest flag, and the effective profile. A child's flags win; a child container replaces the parent's
 * of the same name; parents' containers come first.
 */
import { FoundryError } from '../errors.js';
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

/** The value of `flag` in the effective profile `name`: the nearest setting up the chain, undefined when none sets it. */
export function profileFlag(repo: InfraRepo, name: string, flag: 'hostsWorkspaces' | 'hostsServices'): boolean | undefined {
  for (const pname of profileChain(repo, name).chain) {
    const value = repo.profiles.get(pname)?.doc.spec[flag];
    if (value !== undefined) return value;
  }
  return undefined;
}

/** The effective profile `name` (built-ins and repo profiles) with `extends` applied; throws INFRA_REFERENCE for an unknown name or a cycle. */
export function resolveProfile(repo: InfraRepo, name: string): NodeProfile {
  const { chain, cycle, missing } = profileChain(repo, name);
  if (missing !== undefined) throw new FoundryError('INFRA_REFERENCE', `unknown node profile ${missing}`, { resource: `profile/${missing}` });
  if (cycle) throw new FoundryError('INFRA_REFERENCE', `node profile ${chain.at(-1)!} extends itself (${chain.join(' -> ')})`, { resource: `profile/${chain.at(-1)!}` });
  const own = repo.profiles.get(name)!.doc;
  if (chain.length === 1) return own;
  let spec = {} as NodeProfile['spec'];
  for (const pname of [...chain].reverse()) spec = { ...spec, ...repo.profiles.get(pname)!.doc.spec };
  const containers: Container[] = profileContainers(repo, name).map((ref) => ref.container);
  spec = { ...spec, containers };
  delete spec.extends;
  return { ...own, spec };
}

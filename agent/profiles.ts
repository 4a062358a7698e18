/**
 * Resolves a node profile with its `extends` chain: flags of the child win, containers of the parent
 * come first and a child container with the same name replaces the parent's. Pure.
 */
import { FoundryError } from '../common/errors.js';
import type { InfraRepo, NodeProfile, Container } from '../common/infra/model.js';

/** The effective profile `name` in `repo` (built-ins and repo profiles), with `extends` applied. */
export function resolveProfile(repo: InfraRepo, name: string, seen: string[] = []): NodeProfile {
  const found = repo.profiles.get(name)?.doc;
  if (found === undefined) {
    throw new FoundryError('INFRA_REFERENCE', `unknown node profile ${name}`, { resource: `profile/${name}` });
  }
  if (seen.includes(name)) {
    throw new FoundryError('INFRA_REFERENCE', `node profile ${name} extends itself (${[...seen, name].join(' -> ')})`, { resource: `profile/${name}` });
  }
  const parentName = found.spec.extends;
  if (parentName === undefined) return found;
  const parent = resolveProfile(repo, parentName, [...seen, name]);
  const { extends: _dropped, ...childSpec } = found.spec;
  const spec: NodeProfile['spec'] = { ...parent.spec, ...childSpec, containers: mergeContainers(parent.spec.containers ?? [], found.spec.containers ?? []) };
  delete spec.extends;
  return { ...found, spec };
}

function mergeContainers(parent: Container[], child: Container[]): Container[] {
  const childNames = new Set(child.map((c) => c.name));
  return [...parent.filter((c) => !childNames.has(c.name)), ...child];
}

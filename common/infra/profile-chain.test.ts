import { describe, expect, it } from 'vitest';
import type { InfraRepo, Located, NodeProfile } from './model.js';
import { profileFlag, resolveProfile } from './profile-chain.js';

const profile = (name: string, spec: Partial<NodeProfile['spec']>): [string, Located<NodeProfile>] => [name, { doc: { apiVersion: 'foundry.cloud/v1', kind: 'NodeProfile', metadata: { name }, spec } } as unknown as Located<NodeProfile>];
const repoOf = (...ps: Array<[string, Located<NodeProfile>]>): InfraRepo => ({ profiles: new Map(ps) }) as unknown as InfraRepo;

describe('resolveProfile (the one place extends is resolved)', () => {
  const repo = repoOf(
    profile('base', { hostsWorkspaces: false, reportsGpus: true, containers: [{ name: 'exporter', image: 'x/exp:1' }, { name: 'log', image: 'x/log:1' }] }),
    profile('gpu', { extends: 'base', hostsWorkspaces: true, containers: [{ name: 'log', image: 'x/log:2' }, { name: 'dcgm', image: 'x/dcgm:1' }] }),
    profile('loop-a', { extends: 'loop-b' }),
    profile('loop-b', { extends: 'loop-a' }),
    profile('orphan', { extends: 'gone' }),
  );

  it('lets the child win on flags, keeps parents first and replaces a container of the same name', () => {
    const p = resolveProfile(repo, 'gpu');
    expect(p.spec.extends).toBeUndefined();
    expect(p.spec.hostsWorkspaces).toBe(true);
    expect(p.spec.reportsGpus).toBe(true);
    expect(p.spec.containers?.map((c) => `${c.name}=${c.image}`)).toEqual(['exporter=x/exp:1', 'log=x/log:2', 'dcgm=x/dcgm:1']);
    expect(profileFlag(repo, 'gpu', 'hostsWorkspaces')).toBe(true);
    expect(profileFlag(repo, 'base', 'hostsServices')).toBeUndefined();
  });

  it('names the cycle and the unknown parent', () => {
    expect(() => resolveProfile(repo, 'loop-a')).toThrow('node profile loop-a extends itself (loop-a -> loop-b -> loop-a)');
    expect(() => resolveProfile(repo, 'orphan')).toThrow('unknown node profile gone');
    expect(() => resolveProfile(repo, 'nope')).toThrow('unknown node profile nope');
  });
});

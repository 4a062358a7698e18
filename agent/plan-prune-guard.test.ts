import { describe, expect, it } from 'vitest';
import { planActions } from './plan.js';
import type { DesiredContainer, DesiredState, ObservedResource, Owner } from './desired.js';

// Units (workspaces, services, the profile baseline) with workloads; the guard weighs units removed whole.
const ws = (name: string): Owner => ({ node: 'n1', workspace: name, tenant: 't' });

function container(owner: Owner, name: string): DesiredContainer {
  const scope = owner.workspace !== undefined ? 'workspace' : owner.service !== undefined ? 'service' : 'profile';
  const unit = owner.workspace ?? owner.service ?? owner.profile ?? '';
  return {
    kind: 'container', ref: { kind: 'container', scope, owner: unit, name }, id: `${unit}.${name}`, name: `fc-${unit}-${name}`, owner, specHash: 'h', reclaimPolicy: 'Retain', run: true,
    spec: { image: 'x:1', command: undefined, args: undefined, env: {}, ports: [], mounts: [], cpus: undefined, memoryBytes: undefined, devices: [], healthcheck: undefined, restartPolicy: 'always', pullPolicy: 'IfNotPresent', labels: {}, user: undefined, workingDir: undefined, network: undefined, hostNetwork: false, privileged: false, aliases: [] },
  };
}
const running = (d: DesiredContainer): ObservedResource => ({ kind: d.kind, ref: d.ref, id: d.id, name: d.name, runtimeId: `rt-${d.id}`, owner: d.owner, specHash: d.specHash, state: 'running', reclaimPolicy: 'Retain', facts: {} });
const state = (resources: DesiredContainer[], allowMassPrune = false): DesiredState => ({ node: 'n1', revision: 'r2', profile: 'gpu-node', resources, allowMassPrune });
/** Three containers per workspace. */
const unit = (name: string): DesiredContainer[] => ['a', 'b', 'c'].map((c) => container(ws(name), c));

describe('the mass-prune guard', () => {
  it('lets a revision remove the only workspace of a node (all of its workloads) without a flag', () => {
    const r = planActions(state([]), unit('solo').map(running));
    expect(r.pruneRefused).toBeUndefined();
    expect(r.counts.remove).toBe(3);
  });

  it('lets a revision remove one workspace of many, and fewer than half of them', () => {
    const all = ['w1', 'w2', 'w3', 'w4', 'w5'].flatMap(unit);
    expect(planActions(state(all.filter((d) => d.owner.workspace !== 'w1')), all.map(running))).toMatchObject({ pruneRefused: undefined, counts: { remove: 3 } });
    expect(planActions(state(all.filter((d) => !['w1', 'w2'].includes(d.owner.workspace!))), all.map(running))).toMatchObject({ pruneRefused: undefined, counts: { remove: 6 } });
  });

  it('refuses removing two or more units when that is more than half of the node, naming them and how to allow it', () => {
    const all = ['w1', 'w2', 'w3'].flatMap(unit);
    const r = planActions(state(unit('w3')), all.map(running));
    expect(r.pruneRefused).toEqual({
      reason: 'PruneRefused', rule: 'units', removedUnits: [{ scope: 'workspace', name: 'w1' }, { scope: 'workspace', name: 'w2' }], observedUnits: 3, held: 6, managed: 9,
      message: 'refusing to prune 2 of 3 workspaces and services of node n1 at once (workspace w1, workspace w2) at r2; remove one at a time, or set spec.allowMassPrune: true in cluster.yaml or nodes/n1.yaml in the revision that means it',
    });
    expect(r.counts.remove).toBe(0);
    const held = r.actions.filter((a) => a.held === 'PruneRefused');
    expect(held.map((a) => a.id)).toEqual(['w1.a', 'w1.b', 'w1.c', 'w2.a', 'w2.b', 'w2.c']);
    expect(held.every((a) => a.type === 'noop' && a.reason === `kept: ${r.pruneRefused!.message}`)).toBe(true);
    expect(planActions(state(unit('w3'), true), all.map(running)).counts.remove).toBe(6);
  });

  it('refuses a revision that declares nothing for a node running two units (an emptied workspaces folder)', () => {
    const all = [...unit('w1'), container({ node: 'n1', service: 'search' }, 'web')];
    const r = planActions(state([]), all.map(running));
    expect(r.pruneRefused).toMatchObject({ rule: 'units', removedUnits: [{ scope: 'service', name: 'search' }, { scope: 'workspace', name: 'w1' }] });
    expect(r.counts.remove).toBe(0);
  });

  it('allows exactly half of the units', () => {
    const all = ['w1', 'w2', 'w3', 'w4'].flatMap(unit);
    expect(planActions(state([...unit('w3'), ...unit('w4')]), all.map(running)).pruneRefused).toBeUndefined();
  });

  it('counts the profile baseline as a unit of its own', () => {
    const base = container({ node: 'n1', profile: 'gpu-node' }, 'exporter');
    const all = [base, ...unit('w1'), ...unit('w2')];
    // two workspaces of three units: refused; the baseline stays
    expect(planActions(state([base]), all.map(running)).pruneRefused?.rule).toBe('units');
    expect(planActions(state([base, ...unit('w2')]), all.map(running)).pruneRefused).toBeUndefined();
  });

  it('weighs workloads removed from units that stay (a template edit) against all workloads', () => {
    const all = unit('w1');
    expect(planActions(state([all[0]!]), all.map(running)).pruneRefused).toMatchObject({ rule: 'workloads', held: 2, managed: 3 });
    expect(planActions(state(all.slice(0, 2)), all.map(running)).pruneRefused).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { planActions, formatPlan } from './plan.js';
import type { DesiredContainer, DesiredResource, DesiredState, ObservedResource } from './desired.js';

const owner = { node: 'n1', workspace: 'w', tenant: 't' };

function container(id: string, hash: string, image = 'img:1', run = true): DesiredContainer {
  return {
    kind: 'container', ref: { kind: 'container', scope: 'workspace', owner: 'w', name: id }, id, name: `fc-${id}`, owner, specHash: hash, reclaimPolicy: 'Retain', run,
    spec: { image, command: undefined, args: undefined, env: {}, ports: [], mounts: [], cpus: undefined, memoryBytes: undefined, devices: [], healthcheck: undefined, restartPolicy: 'always', pullPolicy: 'IfNotPresent', labels: {}, user: undefined, workingDir: undefined, network: 'net', hostNetwork: false, privileged: false, aliases: [] },
  };
}
function state(resources: DesiredResource[], allowMassPrune = false): DesiredState {
  return { node: 'n1', revision: 'abc123', profile: 'gpu-node', resources, allowMassPrune };
}
function seen(id: string, hash: string | undefined, st: ObservedResource['state'] = 'running', extra: Partial<ObservedResource> = {}): ObservedResource {
  const kind = extra.kind ?? 'container';
  return { kind, ref: { kind, scope: 'workspace', owner: 'w', name: id }, id, name: `fc-${id}`, runtimeId: `rt-${id}`, owner, specHash: hash, state: st, reclaimPolicy: 'Retain', facts: { image: 'img:1' }, ...extra };
}
const summary = (r: ReturnType<typeof planActions>) => r.actions.map((a) => `${a.type} ${a.id}: ${a.reason}`);

describe('planActions', () => {
  it('creates what is missing, networks and volumes before containers', () => {
    const net: DesiredResource = { kind: 'network', ref: { kind: 'network', scope: 'workspace', owner: 'w', name: 'network' }, id: 'w.net', name: 'fc-w', owner, spec: { internal: false }, specHash: 'n', reclaimPolicy: 'Retain' };
    const vol: DesiredResource = { kind: 'volume', ref: { kind: 'volume', scope: 'workspace', owner: 'w', name: 'data' }, id: 'w.vol.data', name: 'fc-w-data', owner, spec: {}, specHash: 'v', reclaimPolicy: 'Retain' };
    const r = planActions(state([container('w.a', 'h1'), vol, net]), []);
    expect(summary(r)).toEqual([
      'create w.net: create: declared and not present',
      'create w.vol.data: create: declared and not present',
      'create w.a: create: declared and not present',
    ]);
    expect(r.counts.create).toBe(3);
  });

  it('recreates on spec change and explains an image change', () => {
    const r = planActions(state([container('w.a', 'h2', 'img:2'), container('w.b', 'h3')]), [seen('w.a', 'h1'), seen('w.b', 'hx', 'running', { facts: { image: 'img:1' } })]);
    expect(summary(r)).toEqual(['recreate w.a: recreate: image changed from img:1 to img:2', 'recreate w.b: recreate: spec changed (hash hx -> h3)']);
  });

  it('restarts what was stopped by hand and stops a stopped workspace', () => {
    const r = planActions(state([container('w.a', 'h1'), container('w.b', 'h1', 'img:1', false)]), [seen('w.a', 'h1', 'stopped'), seen('w.b', 'h1', 'running')]);
    expect(summary(r)).toEqual(['start w.a: start: found stopped, expected running (stopped outside the agent or crashed)', 'stop w.b: stop: workspace state is stopped']);
  });

  it('prunes what is no longer declared, keeps retained volumes, removes Delete volumes', () => {
    const r = planActions(state([container('w.a', 'h1'), container('w.b', 'h1'), container('w.c', 'h1')]), [
      seen('w.a', 'h1'), seen('w.b', 'h1'), seen('w.c', 'h1'), seen('old.x', 'h1'),
      seen('old.vol.keep', undefined, 'unknown', { kind: 'volume' }),
      seen('old.vol.gone', undefined, 'unknown', { kind: 'volume', reclaimPolicy: 'Delete' }),
    ]);
    expect(summary(r).filter((l) => !l.startsWith('noop w.'))).toEqual([
      'remove old.x: remove: no longer declared',
      'noop old.vol.keep: kept: no longer declared, volume retained (reclaimPolicy Retain)',
      'remove old.vol.gone: remove: no longer declared',
    ]);
    expect(r.pruneRefused).toBeUndefined();
  });

  it('refuses removing more than half of the workloads of the units that stay (a template edit) unless allowed', () => {
    const observed = [seen('w.a', 'h1'), seen('w.b', 'h1'), seen('w.c', 'h1')];
    const r = planActions(state([container('w.a', 'h1')]), observed);
    expect(r.pruneRefused).toMatchObject({ reason: 'PruneRefused', rule: 'workloads', removedUnits: [], held: 2, managed: 3 });
    expect(r.pruneRefused?.message).toBe('refusing to prune 2 of 3 managed workloads (more than half) at abc123; set spec.allowMassPrune: true in cluster.yaml or nodes/n1.yaml in the revision that means it');
    expect(r.counts.remove).toBe(0);
    expect(r.actions.filter((a) => a.held === 'PruneRefused').map((a) => a.id)).toEqual(['w.b', 'w.c']);
    expect(planActions(state([container('w.a', 'h1')], true), observed).counts.remove).toBe(2);
    // exactly half is allowed, and so is one container alone
    expect(planActions(state([container('w.a', 'h1'), container('w.b', 'h1')]), [...observed, seen('w.d', 'h1')]).counts.remove).toBe(2);
    expect(planActions(state([container('w.a', 'h1')]), observed.slice(0, 2)).counts.remove).toBe(1);
  });

  it('removes duplicates left by an interrupted run, keeping the one that matches', () => {
    const r = planActions(state([container('w.a', 'h1')]), [seen('w.a', 'old', 'stopped', { runtimeId: 'x1' }), seen('w.a', 'h1', 'running', { runtimeId: 'x2' })]);
    expect(r.actions.map((a) => `${a.type} ${a.observed?.runtimeId}`)).toEqual(['remove x1', 'noop x2']);
    expect(r.pruneRefused).toBeUndefined();
  });

  it('formats a plan for people', () => {
    const text = formatPlan(planActions(state([container('w.a', 'h1')]), []));
    expect(text).toBe('create   container w.a  (create: declared and not present)\nplan for n1 at abc123: 1 to create, 0 to recreate, 0 to start, 0 to stop, 0 to remove, 0 unchanged');
  });

  it('converges: applying a plan and planning again yields only noops (property)', () => {
    const ids = fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), { maxLength: 6 });
    fc.assert(fc.property(ids, ids, fc.boolean(), (want, have, allow) => {
      const desired = state(want.map((id) => container(id, 'h1')), allow);
      const observed = have.map((id) => seen(id, id < 'c' ? 'h1' : 'h0', id === 'a' ? 'stopped' : 'running'));
      const plan = planActions(desired, observed);
      // apply the plan to a model of the node
      const after = new Map(observed.map((o) => [o.id, o]));
      for (const a of plan.actions) {
        if (a.type === 'remove') after.delete(a.id);
        if (a.type === 'create' || a.type === 'recreate' || a.type === 'start') after.set(a.id, seen(a.id, a.desired!.specHash, 'running'));
      }
      const again = planActions(desired, [...after.values()]);
      const changes = again.actions.filter((a) => a.type !== 'noop');
      return plan.pruneRefused === undefined ? changes.length === 0 : changes.every((a) => a.type === 'remove');
    }));
  });
});

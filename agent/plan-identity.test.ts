import { describe, expect, it } from 'vitest';
import { repoOf } from '../test/support/infra-repo.js';
import { refKey } from '../common/infra/resource-ref.js';
import { ownerFromLabels, ownershipLabels } from './labels.js';
import { planActions } from './plan.js';
import { renderNodeState } from './render.js';
import type { DesiredResource, ObservedResource } from './desired.js';

// Containers named like the workspace's own network, volumes and VM: `net`, `vol`, `vm`.
function repo() {
  return repoOf([
    { kind: 'Cluster', metadata: { name: 'fc' }, spec: { hubUrl: 'http://127.0.0.1:8080' } },
    { kind: 'NodeProfile', metadata: { name: 'bare' }, spec: { hostsWorkspaces: true } },
    { kind: 'Node', metadata: { name: 'n1' }, spec: { profile: 'bare' } },
    { kind: 'WorkspaceTemplate', metadata: { name: 'clash' }, spec: { containers: [
      { name: 'net', image: 'x:1' },
      { name: 'vol', image: 'x:1', volumes: [{ name: 'net', mountPath: '/data' }] },
      { name: 'vm', image: 'x:1' },
    ] } },
    { kind: 'Workspace', metadata: { name: 'w1' }, spec: { tenant: 'acme', template: 'clash', node: 'n1' } },
  ]);
}

/** What a driver observes after creating `d`: the ownership labels written, then read back. */
function observedFrom(d: DesiredResource, labels = ownershipLabels(d.id, d.owner, d.specHash, d.reclaimPolicy, d.ref)): ObservedResource {
  const own = ownerFromLabels(labels, 'n1', d.kind)!;
  return { kind: d.kind, ref: own.ref, id: own.id, name: d.name, runtimeId: `rt-${d.kind}-${d.name}`, owner: own.owner, specHash: own.specHash, state: d.kind === 'container' ? 'running' : 'created', reclaimPolicy: own.reclaim, facts: {} };
}

describe('resource identity', () => {
  it('gives a container called net and the workspace network distinct identities, though their display ids are equal', () => {
    const desired = renderNodeState(repo(), 'n1');
    expect(desired.resources.map((r) => [r.kind, r.id, r.ref])).toEqual([
      ['container', 'ws.w1.net', { kind: 'container', scope: 'workspace', owner: 'w1', name: 'net' }],
      ['network', 'ws.w1.net', { kind: 'network', scope: 'workspace', owner: 'w1', name: 'network' }],
      ['container', 'ws.w1.vm', { kind: 'container', scope: 'workspace', owner: 'w1', name: 'vm' }],
      ['container', 'ws.w1.vol', { kind: 'container', scope: 'workspace', owner: 'w1', name: 'vol' }],
      ['volume', 'ws.w1.vol.net', { kind: 'volume', scope: 'workspace', owner: 'w1', name: 'net' }],
    ]);
    expect(new Set(desired.resources.map((r) => refKey(r.ref))).size).toBe(5);
  });

  it('plans creation of each once, and nothing once they run (converges)', () => {
    const desired = renderNodeState(repo(), 'n1');
    const first = planActions(desired, []);
    expect(first.actions.map((a) => `${a.type} ${a.kind} ${a.id}`)).toEqual([
      'create network ws.w1.net',
      'create volume ws.w1.vol.net',
      'create container ws.w1.net',
      'create container ws.w1.vm',
      'create container ws.w1.vol',
    ]);
    const again = planActions(desired, desired.resources.map((r) => observedFrom(r)));
    expect(again.actions.map((a) => `${a.type} ${a.kind} ${a.id}`)).toEqual([
      'noop network ws.w1.net',
      'noop volume ws.w1.vol.net',
      'noop container ws.w1.net',
      'noop container ws.w1.vm',
      'noop container ws.w1.vol',
    ]);
    expect(new Set(again.actions.map((a) => a.key)).size).toBe(5);
  });

  it('matches resources created before the labels carried a name by kind and display id', () => {
    const desired = renderNodeState(repo(), 'n1');
    const legacy = desired.resources.map((r) => {
      const labels = ownershipLabels(r.id, r.owner, r.specHash, r.reclaimPolicy);
      return observedFrom(r, labels);
    });
    expect(legacy.every((o) => o.ref === undefined)).toBe(true);
    expect(planActions(desired, legacy).actions.every((a) => a.type === 'noop')).toBe(true);
  });

  it('reads the ref from the labels with the kind the runtime holds the resource as', () => {
    const d = renderNodeState(repo(), 'n1').resources.find((r) => r.kind === 'container' && r.ref.name === 'net')!;
    const labels = ownershipLabels(d.id, d.owner, d.specHash, d.reclaimPolicy, d.ref);
    expect(labels['foundry.cloud/name']).toBe('net');
    expect(ownerFromLabels(labels, 'n1', 'container')?.ref).toEqual(d.ref);
    expect(ownerFromLabels(labels, 'n1', 'network')?.ref).toEqual({ ...d.ref, kind: 'network' });
    expect(ownerFromLabels(labels, 'other-node', 'container')).toBeUndefined();
  });
});

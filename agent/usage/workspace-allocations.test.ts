import { describe, expect, it } from 'vitest';
import { renderNodeState } from '../render.js';
import { repoOf } from '../../test/support/infra-repo.js';
import type { ObservedResource } from '../desired.js';
import { UsageEmitter } from './usage-emitter.js';
import type { AnyUsageRecord } from './usage-types.js';
import { workspaceAllocations } from './workspace-allocations.js';

const GPU = 'GPU-11111111-2222-3333-4444-555555555555';
const GIB = 1024 ** 3;
const repo = repoOf([
  { kind: 'NodeProfile', metadata: { name: 'gpu-node' }, spec: { hostsWorkspaces: true } },
  { kind: 'Node', metadata: { name: 'gpu-01' }, spec: { profile: 'gpu-node', gpus: [{ uuid: GPU, model: 'NVIDIA H100 80GB HBM3' }] } },
  { kind: 'WorkspaceTemplate', metadata: { name: 'stack' }, spec: { containers: [
    { name: 'llm', image: 'x:1', gpus: true, resources: { cpus: 4, memory: '32Gi' } },
    { name: 'db', image: 'y:1', resources: { cpus: 0.5, memory: '512Mi' }, volumes: [{ name: 'data', mountPath: '/data' }] },
    { name: 'sidecar', image: 'z:1' },
  ] } },
  { kind: 'WorkspaceTemplate', metadata: { name: 'cpu' }, spec: { containers: [{ name: 'web', image: 'x:1', resources: { cpus: 2, memory: '8Gi' } }] } },
  { kind: 'WorkspaceTemplate', metadata: { name: 'desktop' }, spec: { vm: { name: 'desk', driver: 'libvirt', vcpus: 8, memory: '16Gi', disk: { baseImage: '/var/lib/images/u.qcow2', size: '40Gi' } } } },
  { kind: 'Workspace', metadata: { name: 'alice' }, spec: { tenant: 'acme', template: 'stack', node: 'gpu-01', gpus: { count: 1, uuids: [GPU] } } },
  { kind: 'Workspace', metadata: { name: 'bob' }, spec: { tenant: 'globex', template: 'cpu', node: 'gpu-01' } },
  { kind: 'Workspace', metadata: { name: 'carol' }, spec: { tenant: 'globex', template: 'cpu', node: 'gpu-01', state: 'stopped' } },
  { kind: 'Workspace', metadata: { name: 'dave' }, spec: { tenant: 'acme', template: 'desktop', node: 'gpu-01' } },
]);
const desired = renderNodeState(repo, 'gpu-01');
const declared = new Map([[GPU, 'NVIDIA H100 80GB HBM3']]);
const seen = (id: string, state: ObservedResource['state'] = 'running', kind: ObservedResource['kind'] = 'container'): ObservedResource =>
  ({ kind, id, name: id, runtimeId: id, owner: { node: 'gpu-01' }, specHash: 'h', state, reclaimPolicy: 'Retain', facts: {} });
const allRunning = [seen('ws.alice.llm'), seen('ws.alice.db'), seen('ws.alice.sidecar'), seen('ws.bob.web'), seen('ws.carol.web'), seen('ws.dave.vm.desk', 'running', 'vm')];

describe('workspaceAllocations: vCPUs, memory and storage', () => {
  it('adds up what the running containers and VM declare: CPU limits to the thousandth, memory and disk in bytes', () => {
    const byWs = Object.fromEntries(workspaceAllocations(desired, declared, allRunning, []).map((a) => [a.workspace, a.resources]));
    expect(byWs).toEqual({
      alice: { milliVcpus: 4500, memoryBytes: 32 * GIB + 512 * 1024 ** 2, storageBytes: 0 },
      bob: { milliVcpus: 2000, memoryBytes: 8 * GIB, storageBytes: 0 },
      // stopped: nothing, even if a container was found running
      carol: undefined,
      dave: { milliVcpus: 8000, memoryBytes: 16 * GIB, storageBytes: 40 * GIB },
    });
  });

  it('counts only containers observed running, and nothing for a workspace that does not count as running', () => {
    const partly = workspaceAllocations(desired, declared, [seen('ws.alice.llm'), seen('ws.alice.db', 'failed'), seen('ws.bob.web', 'failed')], []);
    expect(partly.map((a) => [a.workspace, a.running, a.resources])).toEqual([
      ['alice', true, { milliVcpus: 4000, memoryBytes: 32 * GIB, storageBytes: 0 }],
      ['bob', false, undefined],
      ['carol', false, undefined],
      ['dave', false, undefined],
    ]);
    // the GPU container failed to start: the workspace is not running, its db costs nothing either
    expect(workspaceAllocations(desired, declared, [seen('ws.alice.llm', 'failed'), seen('ws.alice.db')], [])[0]).toEqual({ workspace: 'alice', tenant: 'acme', gpus: [{ uuid: GPU, model: 'NVIDIA H100 80GB HBM3' }], running: false });
    // the runtime could not be listed
    expect(workspaceAllocations(desired, declared, undefined, []).every((a) => a.resources === undefined)).toBe(true);
  });

  it('the emitter sends resource-allocation records beside the GPU records for a running workspace, none for stopped or failed ones', async () => {
    let now = 0;
    const sunk: AnyUsageRecord[] = [];
    const e = new UsageEmitter({ node: 'gpu-01', clock: () => now, sink: (r) => { sunk.push(r); } });
    const observed = allRunning.map((o) => (o.id === 'ws.bob.web' ? { ...o, state: 'failed' as const } : o));
    for (; now < 20_000; now += 5_000) e.observe(workspaceAllocations(desired, declared, observed, []));
    await e.tick();
    expect(sunk).toEqual([
      { kind: 'gpu-allocation', version: 1, key: `gpu-01/alice/${GPU}/0`, node: 'gpu-01', workspace: 'alice', tenant: 'acme', gpuUuid: GPU, gpuModel: 'NVIDIA H100 80GB HBM3',
        from: 0, to: 20_000, fromIso: '1970-01-01T00:00:00.000Z', toIso: '1970-01-01T00:00:20.000Z', seconds: 20, measuredAvgUtilizationPct: null, measuredSamples: 0 },
      { kind: 'resource-allocation', version: 1, key: 'gpu-01/alice/resources/0', node: 'gpu-01', workspace: 'alice', tenant: 'acme',
        milliVcpus: 4500, memoryBytes: 32 * GIB + 512 * 1024 ** 2, storageBytes: 0, from: 0, to: 20_000, fromIso: '1970-01-01T00:00:00.000Z', toIso: '1970-01-01T00:00:20.000Z', seconds: 20 },
      { kind: 'resource-allocation', version: 1, key: 'gpu-01/dave/resources/0', node: 'gpu-01', workspace: 'dave', tenant: 'acme',
        milliVcpus: 8000, memoryBytes: 16 * GIB, storageBytes: 40 * GIB, from: 0, to: 20_000, fromIso: '1970-01-01T00:00:00.000Z', toIso: '1970-01-01T00:00:20.000Z', seconds: 20 },
    ]);
  });
});

describe('workspaceAllocations: identity', () => {
  it('matches observed resources by their ref (as the drivers read it from labels) as well as by legacy kind and id', () => {
    const withRefs = allRunning.map((o) => ({ ...o, ref: desired.resources.find((r) => r.kind === o.kind && r.id === o.id)!.ref }));
    expect(workspaceAllocations(desired, declared, withRefs, [])).toEqual(workspaceAllocations(desired, declared, allRunning, []));
    // A running resource of another kind with the same display id is not the container.
    const imposter = allRunning.filter((o) => o.id !== 'ws.alice.llm').concat(seen('ws.alice.llm', 'running', 'volume'));
    expect(workspaceAllocations(desired, declared, imposter, []).find((a) => a.workspace === 'alice')?.running).toBe(false);
  });
});

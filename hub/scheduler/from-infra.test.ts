import { describe, expect, it } from 'vitest';
import { repoOf } from '../../test/support/infra-repo.js';
import { requestFromWorkspace, snapshotFromInfra } from './from-infra.js';
import { place } from './place.js';

const H100 = 'NVIDIA H100 80GB HBM3';
const Gi = 1024 ** 3;
const repo = repoOf([
  { kind: 'NodeProfile', metadata: { name: 'gpu-node' }, spec: { hostsWorkspaces: true } },
  { kind: 'NodeProfile', metadata: { name: 'big-gpu' }, spec: { extends: 'gpu-node' } },
  { kind: 'NodeProfile', metadata: { name: 'service-node' }, spec: { hostsWorkspaces: false } },
  { kind: 'Node', metadata: { name: 'gpu-01' }, spec: { profile: 'big-gpu', labels: { zone: 'eu-1' }, reservations: { cpus: 2, memory: '8Gi' }, capacity: { cpus: 32, memory: '256Gi' },
    gpus: [{ uuid: 'GPU-11111111', model: H100 }, { uuid: 'GPU-22222222', model: H100 }] } },
  { kind: 'Node', metadata: { name: 'svc-01' }, spec: { profile: 'service-node', drain: true } },
  { kind: 'WorkspaceTemplate', metadata: { name: 'ai-stack' }, spec: { containers: [
    { name: 'ollama', image: 'ollama', resources: { cpus: 4, memory: '16Gi' } }, { name: 'ui', image: 'ui', resources: { cpus: 0.5, memory: '512Mi' } }] } },
  { kind: 'Tenant', metadata: { name: 'acme' }, spec: { displayName: 'Acme', quota: { maxGpus: 2 } } },
  { kind: 'Tenant', metadata: { name: 'beta' }, spec: { displayName: 'Beta' } },
  { kind: 'Workspace', metadata: { name: 'alice' }, spec: { tenant: 'acme', template: 'ai-stack', gpus: { count: 1, model: H100, uuids: ['GPU-11111111'] }, node: 'gpu-01', state: 'stopped' } },
  { kind: 'Workspace', metadata: { name: 'bob' }, spec: { tenant: 'acme', template: 'ai-stack', gpus: { count: 1, model: H100 }, nodeSelector: { zone: 'eu-1' } } },
]);

describe('snapshotFromInfra', () => {
  it('joins Git and the agents\' live view', () => {
    const live = new Map([['gpu-01', { online: true, gpus: [
      { uuid: 'GPU-11111111', model: H100, healthy: true }, { uuid: 'GPU-22222222', model: H100, healthy: false }, { uuid: 'GPU-99999999', model: H100, healthy: true }] }]]);
    expect(snapshotFromInfra(repo, live)).toEqual({
      nodes: [
        { name: 'gpu-01', profile: 'big-gpu', hostsWorkspaces: true, labels: { zone: 'eu-1' }, drain: false, online: true, capacity: { cpus: 32, memoryBytes: 256 * Gi },
          reservations: { cpus: 2, memoryBytes: 8 * Gi }, gpus: [{ uuid: 'GPU-11111111', model: H100, healthy: true }, { uuid: 'GPU-22222222', model: H100, healthy: false }] },
        { name: 'svc-01', profile: 'service-node', hostsWorkspaces: false, labels: {}, drain: true, online: false, capacity: { cpus: Infinity, memoryBytes: Infinity },
          reservations: { cpus: 0, memoryBytes: 0 }, gpus: [] },
      ],
      allocations: [{ workspace: 'alice', tenant: 'acme', node: 'gpu-01', gpuUuids: ['GPU-11111111'], cpus: 4.5, memoryBytes: 16 * Gi + 512 * 1024 ** 2 }],
      tenants: [{ name: 'acme', maxGpus: 2 }, { name: 'beta' }],
    });
  });

  it('applies the health each GPU last reported: unhealthy ones are not offered, degraded and unknown ones are', () => {
    const gpuHealth = new Map([['GPU-22222222', { state: 'unhealthy', problems: ['ecc_uncorrected'] }], ['GPU-11111111', { state: 'degraded', problems: ['thermal_throttle'] }]]);
    for (const live of [new Map([['gpu-01', { online: true, gpuHealth }]]), new Map([['gpu-01', { online: true, gpuHealth, gpus: [{ uuid: 'GPU-11111111', model: H100, healthy: true }, { uuid: 'GPU-22222222', model: H100, healthy: true }] }]])]) {
      const snap = snapshotFromInfra(repo, live); // Node file GPUs (no hello inventory) and reported GPUs alike
      expect(snap.nodes[0]?.gpus).toEqual([{ uuid: 'GPU-11111111', model: H100, healthy: true }, { uuid: 'GPU-22222222', model: H100, healthy: false, problems: ['ecc_uncorrected'] }]);
      const p = place(requestFromWorkspace(repo, repo.workspaces.get('bob')!.doc), snap);
      expect(p.explanation).toBe('no placement for bob: 1 node: profile service-node hosts no workspaces; node gpu-01: GPU-22222222 unhealthy (ecc_uncorrected)');
    }
  });

  it('turns a Workspace without a node into a request that place() can answer', () => {
    const snap = snapshotFromInfra(repo, new Map([['gpu-01', { online: true }]]));
    const req = requestFromWorkspace(repo, repo.workspaces.get('bob')!.doc);
    expect(req).toEqual({ workspace: 'bob', tenant: 'acme', gpus: { count: 1, model: H100 }, cpus: 4.5, memoryBytes: 16 * Gi + 512 * 1024 ** 2, nodeSelector: { zone: 'eu-1' } });
    expect(place(req, snap)).toMatchObject({ ok: true, node: 'gpu-01', gpuUuids: ['GPU-22222222'] });
  });
});

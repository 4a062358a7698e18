import { describe, expect, it } from 'vitest';
import type { NodeRow } from '../store/hub-store.js';
import type { FleetSnapshot, NodeSnapshot } from '../scheduler/snapshot.js';
import { gpuCounts, nodeSeries, workspaceGpus } from './fleet-series.js';

const H100 = 'NVIDIA H100 80GB HBM3';
const A100 = 'NVIDIA A100-SXM4-80GB';
const row = (name: string, lastSeenAt: string | null, revoked = false): NodeRow => ({ name, status: 'x', lastSeenAt, agentVersion: null, appliedRevision: null, revoked, ageRecipient: null });
const node = (name: string, gpus: NodeSnapshot['gpus']): NodeSnapshot => ({
  name, profile: 'gpu-node', hostsWorkspaces: true, labels: {}, drain: false, online: true, capacity: { cpus: 8, memoryBytes: 1e10 }, reservations: { cpus: 0, memoryBytes: 0 }, gpus,
});

describe('nodeSeries', () => {
  it('every enrolled, non-revoked node: connected 1/0, last seen now while connected, else its last contact, none when never seen', () => {
    const now = Date.parse('2026-12-08T01:00:00.700Z');
    const rows = [row('a', '2026-12-08T00:00:00Z'), row('b', '2026-12-07T23:00:00.900Z'), row('c', null), row('gone', '2026-12-01T00:00:00Z', true)];
    expect(nodeSeries(rows, new Set(['a']), now)).toEqual([
      { node: 'a', connected: 1, lastSeenSec: Math.floor(now / 1000) },
      { node: 'b', connected: 0, lastSeenSec: Date.parse('2026-12-07T23:00:00Z') / 1000 },
      { node: 'c', connected: 0, lastSeenSec: undefined },
    ]);
  });
});

describe('gpuCounts and workspaceGpus', () => {
  const snapshot: FleetSnapshot = {
    nodes: [
      node('gpu-01', [{ uuid: 'g1', model: H100, healthy: true }, { uuid: 'g2', model: H100, healthy: true }, { uuid: 'g3', model: H100, healthy: false }, { uuid: 'g4', model: A100, healthy: false }]),
      node('gpu-02', [{ uuid: 'h1', model: H100, healthy: true }]),
      node('cpu-01', []),
    ],
    allocations: [
      { workspace: 'acme-a', tenant: 'acme', node: 'gpu-01', gpuUuids: ['g1', 'g4'], cpus: 1, memoryBytes: 1 },
      { workspace: 'acme-cpu', tenant: 'acme', node: 'cpu-01', gpuUuids: [], cpus: 1, memoryBytes: 1 },
      { workspace: 'globex-b', tenant: 'globex', node: 'gpu-02', gpuUuids: ['h1'], cpus: 1, memoryBytes: 1 },
    ],
    tenants: [{ name: 'acme' }, { name: 'globex' }],
  };

  it('counts each node and model as allocated (held, healthy or not), unhealthy (held by none) and free; every state present; nodes without GPUs have none', () => {
    expect(gpuCounts(snapshot).map((c) => `${c.node} ${c.model} ${c.state} ${c.count}`)).toEqual([
      `gpu-01 ${A100} free 0`, `gpu-01 ${A100} allocated 1`, `gpu-01 ${A100} unhealthy 0`,
      `gpu-01 ${H100} free 1`, `gpu-01 ${H100} allocated 1`, `gpu-01 ${H100} unhealthy 1`,
      `gpu-02 ${H100} free 0`, `gpu-02 ${H100} allocated 1`, `gpu-02 ${H100} unhealthy 0`,
    ]);
  });

  it('GPUs placed per workspace (workspaces without GPUs left out)', () => {
    expect(workspaceGpus(snapshot, (w) => (w === 'globex-b' ? 'stopped' : 'running'))).toEqual([
      { tenant: 'acme', workspace: 'acme-a', node: 'gpu-01', state: 'running', gpus: 2 },
      { tenant: 'globex', workspace: 'globex-b', node: 'gpu-02', state: 'stopped', gpus: 1 },
    ]);
  });
});

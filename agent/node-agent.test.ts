import { describe, expect, it } from 'vitest';
import { statusBody, workspaceAllocations } from './node-agent.js';
import { renderNodeState } from './render.js';
import { repoOf } from '../test/support/infra-repo.js';
import { decodeFrame, encodeFrame } from '../common/protocol/codec.js';
import type { ObservedResource } from './desired.js';
import type { AgentStatus } from './reconcile/status.js';

const GPU = 'GPU-11111111-2222-3333-4444-555555555555';
const repo = repoOf([
  { kind: 'NodeProfile', metadata: { name: 'gpu-node' }, spec: { hostsWorkspaces: true } },
  { kind: 'Node', metadata: { name: 'gpu-01' }, spec: { profile: 'gpu-node', gpus: [{ uuid: GPU, model: 'NVIDIA H100 80GB HBM3' }] } },
  { kind: 'WorkspaceTemplate', metadata: { name: 'stack' }, spec: { containers: [{ name: 'llm', image: 'x:1', gpus: true }, { name: 'db', image: 'y:1' }] } },
  { kind: 'WorkspaceTemplate', metadata: { name: 'cpu' }, spec: { containers: [{ name: 'web', image: 'x:1' }] } },
  { kind: 'Workspace', metadata: { name: 'alice' }, spec: { tenant: 'acme', template: 'stack', node: 'gpu-01', gpus: { count: 1, uuids: [GPU] } } },
  { kind: 'Workspace', metadata: { name: 'bob' }, spec: { tenant: 'globex', template: 'cpu', node: 'gpu-01', state: 'stopped' } },
]);
const desired = renderNodeState(repo, 'gpu-01');
const declared = new Map([[GPU, 'NVIDIA H100 80GB HBM3']]);
const running = (id: string, state: ObservedResource['state'] = 'running'): ObservedResource => ({ kind: 'container', id, name: id, runtimeId: id, owner: { node: 'gpu-01' }, specHash: 'h', state, reclaimPolicy: 'Retain', facts: {} });

describe('workspaceAllocations', () => {
  it('bills a workspace whose GPU-holding container runs, with the model from the node file when nvidia-smi has none', () => {
    expect(workspaceAllocations(desired, declared, [running('ws.alice.llm'), running('ws.alice.db', 'stopped')], [])).toEqual([
      { workspace: 'alice', tenant: 'acme', gpus: [{ uuid: GPU, model: 'NVIDIA H100 80GB HBM3' }], running: true },
      { workspace: 'bob', tenant: 'globex', gpus: [], running: false },
    ]);
  });
  it('does not count a workspace whose GPU container failed to start, or any when nothing was observed', () => {
    expect(workspaceAllocations(desired, declared, [running('ws.alice.llm', 'failed'), running('ws.alice.db')], [])[0]!.running).toBe(false);
    expect(workspaceAllocations(desired, declared, undefined, [])[0]!.running).toBe(false);
    expect(workspaceAllocations(undefined, declared, [], [])).toEqual([]);
  });
  it('prefers the model nvidia-smi reports', () => {
    const dev = { index: 0, uuid: GPU, model: 'NVIDIA H100 PCIe', memoryTotalMiB: 1, driverVersion: null, pciBusId: null, migMode: null, migDevices: [] };
    expect(workspaceAllocations(desired, declared, [running('ws.alice.llm')], [dev as never])[0]!.gpus).toEqual([{ uuid: GPU, model: 'NVIDIA H100 PCIe' }]);
  });
});

describe('statusBody', () => {
  it('maps an agent status to a valid protocol status body', () => {
    const status = {
      node: 'gpu-01', observedRevision: 'abc', lastAppliedRevision: 'abc', desiredRevision: 'abc',
      conditions: [{ type: 'Ready', status: 'True', reason: 'ReconciliationSucceeded', message: 'applied abc' }],
      resources: [{ id: 'ws.alice.llm', kind: 'container', name: 'fc-ws-alice-llm', workspace: 'alice', phase: 'Stalled', reason: 'ImageMissing', message: 'image x:1 is not present', action: 'create' }],
      errors: [], issues: [],
    } as unknown as AgentStatus;
    const body = statusBody(status, 12);
    expect(body.resources).toEqual([{ id: 'ws.alice.llm', kind: 'container', workspace: 'alice', conditions: [{ type: 'Ready', status: 'False', reason: 'ImageMissing', message: 'image x:1 is not present' }] }]);
    expect(body.reconcile).toEqual({ result: 'success', durationMs: 12 });
    const decoded = decodeFrame(encodeFrame('status', { ...body, node: 'gpu-01' }, { seq: 1 }), ['status']);
    expect(decoded).toMatchObject({ ok: true });
  });
});

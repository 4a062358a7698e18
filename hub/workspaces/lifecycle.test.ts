import { describe, it, expect } from 'vitest';
import { phaseOf, type NodeStatusBody } from './lifecycle.js';
import type { Workspace } from '../../common/infra/model.js';

const ws = (spec: Partial<Workspace['spec']> = {}): Workspace => ({ apiVersion: 'foundry.cloud/v1', kind: 'Workspace', metadata: { name: 'acme-a' }, spec: { tenant: 'acme', template: 't', ...spec } });
/** A resource as the agent reports it: display id, kind and workspace (the hub reads the last two, never the id). */
const ready = (id: string, kind = 'container', workspace = 'acme-a') => ({ id, kind, workspace, conditions: [{ type: 'Ready', status: 'True', reason: 'UpToDate' }] });

describe('phaseOf', () => {
  it('reads Deleted, Pending and Stopped from Git alone', () => {
    expect(phaseOf(undefined, undefined)).toEqual({ phase: 'Deleted', reason: 'RemovedFromGit', message: 'the workspace file is gone from the infra repo', node: null });
    expect(phaseOf(ws(), undefined)).toEqual({ phase: 'Pending', reason: 'AwaitingPlacement', message: 'no node assigned yet', node: null });
    expect(phaseOf(ws({ node: 'gpu-01', state: 'stopped' }), { resources: [ready('ws.acme-a.main')] })).toEqual({ phase: 'Stopped', reason: 'StoppedInGit', message: 'spec.state is stopped', node: 'gpu-01' });
  });

  it('is Placed until every container of the workspace reports Ready (networks, volumes and other workspaces ignored)', () => {
    const s: NodeStatusBody = { resources: [ready('ws.acme-a.net', 'network'), ready('ws.acme-a.vol.data', 'volume'), ready('ws.acme-ab.main', 'container', 'acme-ab')] };
    expect(phaseOf(ws({ node: 'gpu-01' }), s).phase).toBe('Placed');
    expect(phaseOf(ws({ node: 'gpu-01' }), { resources: [ready('ws.acme-a.main'), { id: 'ws.acme-a.db', kind: 'container', workspace: 'acme-a', conditions: [{ type: 'Ready', status: 'False', reason: 'Progressing' }] }] }).phase).toBe('Placed');
    expect(phaseOf(ws({ node: 'gpu-01' }), { resources: [ready('ws.acme-a.main'), ready('ws.acme-a.vm.desk', 'vm')] })).toEqual({ phase: 'Running', reason: 'AgentReportsReady', message: 'gpu-01 reports 2 resources ready', node: 'gpu-01' });
  });

  it('is Failed with the agent\'s reason when a resource is Stalled', () => {
    const s: NodeStatusBody = { resources: [ready('ws.acme-a.web'), { id: 'ws.acme-a.db', kind: 'container', workspace: 'acme-a', conditions: [{ type: 'Stalled', status: 'True', reason: 'ImageMissing', message: 'image x is not present' }] }] };
    expect(phaseOf(ws({ node: 'gpu-01' }), s)).toEqual({ phase: 'Failed', reason: 'ImageMissing', message: 'ws.acme-a.db: image x is not present', node: 'gpu-01' });
  });

  it('tells a container called net from the workspace network by kind, not by id', () => {
    const pending = { id: 'ws.acme-a.net', kind: 'container', workspace: 'acme-a', conditions: [{ type: 'Ready', status: 'False', reason: 'Progressing' }] };
    expect(phaseOf(ws({ node: 'gpu-01' }), { resources: [ready('ws.acme-a.net', 'network'), pending] }).phase).toBe('Placed');
    expect(phaseOf(ws({ node: 'gpu-01' }), { resources: [ready('ws.acme-a.net', 'network'), ready('ws.acme-a.net')] })).toMatchObject({ phase: 'Running', message: 'gpu-01 reports 1 resource ready' });
  });

  it('shows a workspace removed from Git that its node keeps running (prune refused) as Failed with how to allow it', () => {
    const message = 'kept: refusing to prune 2 of 3 workspaces and services of node gpu-01 at once (workspace acme-a, workspace acme-b) at r2; remove one at a time, or set spec.allowMassPrune: true in cluster.yaml or nodes/gpu-01.yaml in the revision that means it';
    const held = { id: 'ws.acme-a.main', kind: 'container', workspace: 'acme-a', conditions: [{ type: 'Ready', status: 'False', reason: 'PruneRefused', message }] };
    expect(phaseOf(undefined, { resources: [held] }, 'acme-a', 'gpu-01')).toEqual({ phase: 'Failed', reason: 'PruneRefused', message: `removed from the infra repo, but node gpu-01 keeps it running: ${message.slice('kept: '.length)}`, node: 'gpu-01' });
    expect(phaseOf(undefined, { resources: [held] }, 'acme-b', 'gpu-01').phase).toBe('Deleted');
    expect(phaseOf(undefined, { resources: [ready('ws.acme-a.main')] }, 'acme-a', 'gpu-01')).toEqual({ phase: 'Running', reason: 'AwaitingRemoval', message: 'removed from the infra repo; node gpu-01 still runs it until its agent removes it', node: 'gpu-01' });
    expect(phaseOf(undefined, { resources: [ready('ws.acme-a.net', 'network')] }, 'acme-a', 'gpu-01').phase).toBe('Deleted');
    expect(phaseOf(undefined, { resources: [] }, 'acme-a', 'gpu-01').phase).toBe('Deleted');
    const pruned = { id: 'ws.acme-a.main', kind: 'container', workspace: 'acme-a', conditions: [{ type: 'Ready', status: 'True', reason: 'Pruned', message: 'remove: no longer declared' }] };
    expect(phaseOf(undefined, { resources: [pruned] }, 'acme-a', 'gpu-01').phase).toBe('Deleted');
  });
});

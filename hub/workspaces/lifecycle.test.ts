import { describe, it, expect } from 'vitest';
import { phaseOf, type NodeStatusBody } from './lifecycle.js';
import type { Workspace } from '../../common/infra/model.js';

const ws = (spec: Partial<Workspace['spec']> = {}): Workspace => ({ apiVersion: 'foundry.cloud/v1', kind: 'Workspace', metadata: { name: 'acme-a' }, spec: { tenant: 'acme', template: 't', ...spec } });
const ready = (id: string) => ({ id, conditions: [{ type: 'Ready', status: 'True', reason: 'UpToDate' }] });

describe('phaseOf', () => {
  it('reads Deleted, Pending and Stopped from Git alone', () => {
    expect(phaseOf(undefined, undefined)).toEqual({ phase: 'Deleted', reason: 'RemovedFromGit', message: 'the workspace file is gone from the infra repo', node: null });
    expect(phaseOf(ws(), undefined)).toEqual({ phase: 'Pending', reason: 'AwaitingPlacement', message: 'no node assigned yet', node: null });
    expect(phaseOf(ws({ node: 'gpu-01', state: 'stopped' }), { resources: [ready('ws.acme-a.main')] })).toEqual({ phase: 'Stopped', reason: 'StoppedInGit', message: 'spec.state is stopped', node: 'gpu-01' });
  });

  it('is Placed until every container of the workspace reports Ready (networks, volumes and other workspaces ignored)', () => {
    const s: NodeStatusBody = { resources: [ready('ws.acme-a.net'), ready('ws.acme-a.vol.data'), ready('ws.acme-ab.main')] };
    expect(phaseOf(ws({ node: 'gpu-01' }), s).phase).toBe('Placed');
    expect(phaseOf(ws({ node: 'gpu-01' }), { resources: [ready('ws.acme-a.main'), { id: 'ws.acme-a.db', conditions: [{ type: 'Ready', status: 'False', reason: 'Progressing' }] }] }).phase).toBe('Placed');
    expect(phaseOf(ws({ node: 'gpu-01' }), { resources: [ready('ws.acme-a.main'), ready('ws.acme-a.vm.desk')] })).toEqual({ phase: 'Running', reason: 'AgentReportsReady', message: 'gpu-01 reports 2 resources ready', node: 'gpu-01' });
  });

  it('is Failed with the agent\'s reason when a resource is Stalled', () => {
    const s: NodeStatusBody = { resources: [ready('ws.acme-a.web'), { id: 'ws.acme-a.db', conditions: [{ type: 'Stalled', status: 'True', reason: 'ImageMissing', message: 'image x is not present' }] }] };
    expect(phaseOf(ws({ node: 'gpu-01' }), s)).toEqual({ phase: 'Failed', reason: 'ImageMissing', message: 'ws.acme-a.db: image x is not present', node: 'gpu-01' });
  });
});

/** The overview endpoints over HTTP from what agents stored: states, conditions with reasons, alerts, enrollment states, audit paging. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../hub/support.js';

describe('overview endpoints', () => {
  let hub: TestHub;
  let admin: string;
  const get = async (path: string) => (await fetch(`${hub.url}${path}`, { headers: { authorization: `Bearer ${admin}` } })).json() as Promise<Record<string, unknown>>;

  beforeAll(async () => {
    hub = await startTestHub({ dashboard: { pollMs: 0 } });
    admin = hub.store.createAdminToken('t');
    hub.store.issueNodeCredential('gpu-01');
    hub.store.issueNodeCredential('gpu-02');
    hub.store.issueNodeCredential('old-01');
    hub.store.revokeNode('old-01');
    hub.store.recordHello('gpu-01', { node: 'gpu-01', agentVersion: '0.1.0', appliedRevision: 'r1', inventory: { gpus: [{ uuid: 'GPU-1', model: 'H100' }], resources: [] } });
    hub.store.markSeen('gpu-01', 'disconnected');
    hub.store.ingest([{ node: 'gpu-01', seq: 1, kind: 'status', payload: { node: 'gpu-01', lastAppliedRevision: 'r1', conditions: [{ type: 'Stalled', status: 'True', reason: 'PruneRefused', message: 'would remove 9 of 10' }], resources: [{ id: 'ws.a.main', conditions: [{ type: 'Ready', status: 'False', reason: 'ImageMissing' }] }] } }]);
  });
  afterAll(async () => hub.close());

  it('reports the offline node, its stalled reconcile and its GPU, and leaves the revoked node out', async () => {
    const o = await get('/api/v1/overview');
    expect(o.nodes).toEqual({ total: 2, byProfile: { unknown: { online: 0, degraded: 0, offline: 1, 'never-connected': 1, draining: 0 } } });
    expect(o.gpus).toEqual({ total: 1, allocated: 0, free: 1, busy: 0 });
    expect(o.alerts).toEqual([
      { severity: 'critical', kind: 'node-offline', node: 'gpu-01', message: expect.stringMatching(/^gpu-01 is offline since 20\d\d-/) },
      { severity: 'warning', kind: 'reconcile-stalled', node: 'gpu-01', message: 'gpu-01: reconcile stalled (PruneRefused)' },
    ]);
    expect(o.storage).toEqual({ cephNodes: 0, reported: false, source: null, totalBytes: null, usedBytes: null, availableBytes: null, pools: [], nodes: [], errors: [] });
    const { nodes } = (await get('/api/v1/fleet/nodes')) as { nodes: Array<Record<string, unknown>> };
    expect(nodes.map((n) => [n.name, n.state, n.reasons])).toEqual([['gpu-01', 'offline', ['agent not connected', 'stalled: PruneRefused (would remove 9 of 10)']], ['gpu-02', 'never-connected', ['never connected']]]);
    expect(nodes[0]).toMatchObject({
      agentVersion: '0.1.0', appliedRevision: 'r1', desiredRevision: null,
      conditions: [{ type: 'Stalled', status: 'True', reason: 'PruneRefused', message: 'would remove 9 of 10' }],
      resources: [{ id: 'ws.a.main', conditions: [{ type: 'Ready', status: 'False', reason: 'ImageMissing' }] }],
      gpus: [{ uuid: 'GPU-1', model: 'H100', utilizationPct: null, memoryUsedMiB: null, memoryTotalMiB: null, powerW: null, temperatureC: null, workspace: null, error: null, history: [] }],
      storage: null,
    });
  });

  it('lists nodes by enrollment state', async () => {
    const { nodes } = (await get('/api/v1/fleet/enrollments')) as { nodes: Array<{ name: string; state: string; connected: boolean }> };
    expect(nodes.map((n) => [n.name, n.state, n.connected])).toEqual([['gpu-01', 'active', false], ['gpu-02', 'pending', false], ['old-01', 'revoked', false]]);
  });

  it('pages the audit log newest first', async () => {
    const first = (await get('/api/v1/audit?limit=2')) as { entries: Array<{ id: number; action: string; target: string }> };
    expect(first.entries.map((e) => [e.action, e.target])).toEqual([['node.revoke', 'old-01'], ['node.credential.issue', 'old-01']]);
    const next = (await get(`/api/v1/audit?limit=10&before=${first.entries[1]?.id}`)) as { entries: Array<{ action: string; target: string }> };
    expect(next.entries.map((e) => [e.action, e.target])).toEqual([['node.credential.issue', 'gpu-02'], ['node.credential.issue', 'gpu-01'], ['admin-token.create', 't']]);
    expect((await fetch(`${hub.url}/api/v1/audit?limit=9999`, { headers: { authorization: `Bearer ${admin}` } })).status).toBe(400);
  });
});

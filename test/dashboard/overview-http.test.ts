/** The overview endpoints over HTTP from what agents stored: states, conditions with reasons, alerts, enrollment states, audit paging. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../hub/support.js';

describe('overview endpoints', () => {
  let hub: TestHub;
  let admin: string;
  const get = async (path: string) => (await fetch(`${hub.url}${path}`, { headers: { authorization: `Bearer ${admin}` } })).json() as Promise<Record<string, unknown>>;

  beforeAll(async () => {
    hub = await startTestHub({ dashboard: { pollMs: 0 } });
    admin = (await hub.store.createAdminToken('t'));
    await hub.store.issueNodeCredential('gpu-01');
    await hub.store.issueNodeCredential('gpu-02');
    await hub.store.issueNodeCredential('old-01');
    await hub.store.revokeNode('old-01');
    await hub.store.recordHello('gpu-01', { node: 'gpu-01', agentVersion: '0.1.0', appliedRevision: 'r1', inventory: { gpus: [{ uuid: 'GPU-1', model: 'H100' }], resources: [] } });
    await hub.store.markSeen('gpu-01', 'disconnected');
    await hub.store.ingest([{ node: 'gpu-01', seq: 1, kind: 'status', payload: { node: 'gpu-01', lastAppliedRevision: 'r1', conditions: [{ type: 'Stalled', status: 'True', reason: 'PruneRefused', message: 'would remove 9 of 10' }], resources: [{ id: 'ws.a.main', conditions: [{ type: 'Ready', status: 'False', reason: 'ImageMissing' }] }] } }]);
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

  it('counts usage refused in the last 24 h in the alerts, per node and reason; the refused list names the workspace', async () => {
    const refuse = (node: string, seq: number, reason: string, payload: unknown) => ({ node, seq, kind: 'usage-refused' as const, payload, refusal: { reason, message: `refused ${seq}`, field: '/body/record/workspace' } });
    // one batch: one receive time, so the list's order is by node, then newest seq first
    await hub.store.ingest([
      refuse('gpu-01', 7, 'not-placed-on-node', { workspace: 'bob', tenant: 'globex' }),
      refuse('gpu-01', 8, 'not-placed-on-node', { workspace: 'carol' }),
      refuse('gpu-01', 9, 'in-future', { workspace: 'alice' }),
      refuse('gpu-02', 3, 'malformed', { workspace: ['not', 'a', 'name'] }),
    ]);
    // a day and a minute ago: listed, but no longer in the alerts
    hub.store.db.prepare("INSERT INTO usage_refusals (node, seq, reason, field, message, record, received_at) VALUES ('gpu-02', 1, 'too-long', NULL, 'old', '{\"workspace\":\"old-ws\"}', ?)").run(new Date(Date.now() - 86_460_000).toISOString());
    // a record cut at 4 KiB is no JSON: listed without a workspace
    hub.store.db.prepare("INSERT INTO usage_refusals (node, seq, reason, field, message, record, received_at) VALUES ('gpu-02', 2, 'malformed', NULL, 'cut', '{\"workspace\":\"cu', ?)").run(new Date(Date.now() - 86_470_000).toISOString());
    const o = (await get('/api/v1/overview')) as { alerts: Array<Record<string, string>>; usageRefused: unknown };
    expect(o.usageRefused).toEqual({ last24h: 4 });
    expect(o.alerts.filter((a) => a.kind === 'usage-refused')).toEqual([
      { severity: 'warning', kind: 'usage-refused', node: 'gpu-01', message: 'gpu-01: 3 usage records refused in the last 24 h, not billed (in-future 1, not-placed-on-node 2); see Billing, Refused usage' },
      { severity: 'warning', kind: 'usage-refused', node: 'gpu-02', message: 'gpu-02: 1 usage record refused in the last 24 h, not billed (malformed 1); see Billing, Refused usage' },
    ]);
    const list = (await get('/api/v1/usage/refused')) as { refused: Array<{ node: string; seq: number; workspace: string | null; reason: string; field: string | null }> };
    expect(list.refused.map((r) => [r.node, r.seq, r.workspace, r.reason, r.field])).toEqual([
      ['gpu-01', 9, 'alice', 'in-future', '/body/record/workspace'],
      ['gpu-01', 8, 'carol', 'not-placed-on-node', '/body/record/workspace'],
      ['gpu-01', 7, 'bob', 'not-placed-on-node', '/body/record/workspace'],
      ['gpu-02', 3, null, 'malformed', '/body/record/workspace'],
      ['gpu-02', 1, 'old-ws', 'too-long', null],
      ['gpu-02', 2, null, 'malformed', null],
    ]);
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

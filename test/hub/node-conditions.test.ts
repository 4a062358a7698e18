/**
 * A node's runtime condition travels the real path: the agent's status (statusBody) through the hub link
 * and the gateway into the store, then out through the node API (/api/v1/nodes) and the dashboard's fleet
 * view (/api/v1/fleet/nodes: degraded, with the reason, and an alert).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { HubLink } from '../../agent/link/hub-link.js';
import { statusBody } from '../../agent/node-agent.js';
import type { AgentStatus } from '../../agent/reconcile/status.js';
import { startTestHub, tempDir, waitFor, type TestHub } from './support.js';

const caps = { type: 'PodmanCapabilities', status: 'False' as const, reason: 'CniNetworkBackend', message: 'podman uses the cni network backend: containers of a workspace network cannot resolve each other by name; install netavark and aardvark-dns' };
const status: AgentStatus = {
  node: 'gpu-01',
  observedRevision: 'r1',
  lastAppliedRevision: 'r1',
  desiredRevision: 'r1',
  conditions: [{ type: 'Ready', status: 'True', reason: 'ReconciliationSucceeded', message: 'applied revision r1' }, { type: 'Reconciling', status: 'False', reason: 'Idle', message: '' }, { type: 'Stalled', status: 'False', reason: 'NotStalled', message: '' }, caps],
  resources: [],
  errors: [],
  issues: [],
  lastReconcile: { trigger: 'start', startedAt: '2026-12-07T10:00:00.000Z', finishedAt: '2026-12-07T10:00:01.000Z', durationMs: 1000, converged: true, counts: undefined },
};

describe('runtime conditions from the agent to the node API and the dashboard', () => {
  let hub: TestHub;
  let link: HubLink;
  let stateDir: string;
  let admin: string;
  const get = async (path: string): Promise<Record<string, unknown>> => (await fetch(`${hub.url}${path}`, { headers: { authorization: `Bearer ${admin}` } })).json() as Promise<Record<string, unknown>>;

  beforeAll(async () => {
    hub = await startTestHub({ dashboard: { pollMs: 0 } });
    admin = (await hub.store.createAdminToken('t'));
    stateDir = tempDir('fc-node-cond-');
    const credential = (await hub.store.issueNodeCredential('gpu-01'));
    link = new HubLink({ hubUrl: hub.url, node: 'gpu-01', credential, stateDir, agentVersion: '0.1.0', hello: () => ({ appliedRevision: 'r1', inventory: { gpus: [], resources: [] } }) }).start();
    await waitFor(() => hub.app.hub.gateway.connectedNodes().includes('gpu-01'), 5000, 'connection');
    link.sendStatus(statusBody(status));
    await waitFor(() => link.pending() === 0, 5000, 'ack');
  });
  afterAll(async () => {
    await link?.close();
    await hub?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('the node API lists the condition as the agent sent it', async () => {
    const { nodes } = (await get('/api/v1/nodes')) as { nodes: Array<{ name: string; conditions: unknown[] }> };
    expect(nodes.find((n) => n.name === 'gpu-01')?.conditions).toContainEqual(caps);
  });

  it('the fleet view shows the node degraded with the reason and raises an alert', async () => {
    const { nodes } = (await get('/api/v1/fleet/nodes')) as { nodes: Array<{ name: string; state: string; reasons: string[]; conditions: unknown[] }> };
    expect(nodes.find((n) => n.name === 'gpu-01')).toMatchObject({ state: 'degraded', reasons: ['PodmanCapabilities: CniNetworkBackend'] });
    expect(nodes.find((n) => n.name === 'gpu-01')?.conditions).toContainEqual(caps);
    const o = await get('/api/v1/overview');
    expect(o.alerts).toContainEqual({ severity: 'warning', kind: 'runtime-capability', node: 'gpu-01', message: `gpu-01: PodmanCapabilities CniNetworkBackend (${caps.message})` });
  });
});

/* eslint-disable @typescript-eslint/no-explicit-any -- responses are JSON checked by value */
/**
 * A workspace deleted through the API (a Git commit) while its node still runs it: the hub says so
 * (Running, AwaitingRemoval) instead of Deleted, shows a removal the node's mass-prune guard refused as
 * Failed / PruneRefused with how to allow it (on the workspace and in the node's reasons), and says
 * Deleted once the node no longer reports it. The agent's resources carry kind and workspace.
 */
import { afterAll, beforeAll, expect, it, describe } from 'vitest';
import { fleetFiles } from './git-fixture.js';
import { startWsHub, type WsHub } from './hub-fixture.js';

const REFUSAL = 'kept: refusing to prune 2 of 3 workspaces and services of node gpu-01 at once (workspace acme-p, workspace acme-q) at abc; remove one at a time, or set spec.allowMassPrune: true in cluster.yaml or nodes/gpu-01.yaml in the revision that means it';

let hub: WsHub;
beforeAll(async () => {
  hub = await startWsHub(fleetFiles({ nodes: 1, gpus: 2 }), ['gpu-01']);
}, 60_000);
afterAll(async () => hub?.close());

/** Waits until `GET path` satisfies `ok` (the status message travels through the outbox). */
async function poll(path: string, ok: (json: any) => boolean): Promise<any> {
  const until = Date.now() + 10_000;
  let json: any;
  do {
    await new Promise((r) => setTimeout(r, 50));
    json = (await hub.call('GET', path)).json;
  } while (!ok(json) && Date.now() < until);
  return json;
}

const main = (ws: string, reason: string, message = ''): any => ({ id: `ws.${ws}.main`, kind: 'container', workspace: ws, conditions: [{ type: 'Ready', status: reason === 'PruneRefused' ? 'False' : 'True', reason, message }] });

describe('a workspace removed from Git that its node still runs', () => {
  it('is Running (AwaitingRemoval), then Failed (PruneRefused) with how to allow it, then Deleted', async () => {
    expect((await hub.call('POST', '/api/v1/workspaces', { body: { tenant: 'acme', template: 'tiny', gpus: { count: 1 }, name: 'acme-p' } })).status).toBe(201);
    const link = hub.links.get('gpu-01')!;
    link.sendStatus({ conditions: [], resources: [main('acme-p', 'Created'), { id: 'ws.acme-p.net', kind: 'network', workspace: 'acme-p', conditions: [{ type: 'Ready', status: 'True', reason: 'Created' }] }] });
    expect((await poll('/api/v1/workspaces/acme-p', (j) => j.status?.phase === 'Running')).status.phase).toBe('Running');

    expect((await hub.call('DELETE', '/api/v1/workspaces/acme-p', { tenant: 'acme' })).status).toBe(200);
    const pending = await poll('/api/v1/workspaces/acme-p', (j) => j.status?.reason === 'AwaitingRemoval');
    expect(pending.status).toMatchObject({ phase: 'Running', reason: 'AwaitingRemoval', message: 'removed from the infra repo; node gpu-01 still runs it until its agent removes it' });

    link.sendStatus({ conditions: [{ type: 'Stalled', status: 'True', reason: 'PruneRefused', message: REFUSAL.slice('kept: '.length) }], resources: [main('acme-p', 'PruneRefused', REFUSAL)] });
    const refused = await poll('/api/v1/workspaces/acme-p', (j) => j.status?.reason === 'PruneRefused');
    expect(refused.status).toMatchObject({ phase: 'Failed', reason: 'PruneRefused', message: `removed from the infra repo, but node gpu-01 keeps it running: ${REFUSAL.slice('kept: '.length)}` });
    expect(refused.node).toBe('gpu-01');
    const listed = (await hub.call('GET', '/api/v1/workspaces', { tenant: 'acme' })).json.workspaces.find((w: any) => w.name === 'acme-p');
    expect(listed?.status).toMatchObject({ phase: 'Failed', reason: 'PruneRefused' });
    expect((await hub.call('GET', '/api/v1/workspaces', { tenant: 'globex' })).json.workspaces.map((w: any) => w.name)).not.toContain('acme-p');
    const node = (await hub.call('GET', '/api/v1/fleet/nodes')).json.nodes.find((n: any) => n.name === 'gpu-01');
    expect(node.reasons).toContain(`stalled: PruneRefused (${REFUSAL.slice('kept: '.length)})`);

    link.sendStatus({ conditions: [], resources: [] });
    const gone = await poll('/api/v1/workspaces/acme-p', (j) => j.status?.phase === 'Deleted');
    expect(gone.status).toMatchObject({ phase: 'Deleted', reason: 'RemovedFromGit' });
    expect((await hub.call('GET', '/api/v1/workspaces')).json.workspaces.map((w: any) => w.name)).not.toContain('acme-p');
  });
});

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestHub, rawClient, frame, waitFor, type TestHub } from './support.js';

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(async () => hub.close());

describe('agent authentication', () => {
  it('refuses a connection without a credential', async () => {
    await expect(rawClient(hub.url, undefined)).rejects.toThrow('http 401');
  });

  it('refuses a wrong credential', async () => {
    await hub.store.issueNodeCredential('gpu-01');
    await expect(rawClient(hub.url, 'fnc_wrong')).rejects.toThrow('http 401');
  });

  it('does not take the credential from the url', async () => {
    const cred = (await hub.store.issueNodeCredential('gpu-02'));
    const WebSocket = (await import('ws')).default;
    const ws = new WebSocket(`${hub.url.replace('http', 'ws')}/api/v1/agent/ws?token=${cred}`);
    const status = await new Promise<number>((resolve) => ws.on('unexpected-response', (_r, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(401);
  });

  it('refuses a revoked credential, and revoking drops a live connection', async () => {
    const cred = (await hub.store.issueNodeCredential('gpu-03'));
    const admin = (await hub.store.createAdminToken('test'));
    const c = await rawClient(hub.url, cred);
    const res = await fetch(`${hub.url}/api/v1/nodes/gpu-03/revoke`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } });
    expect(res.status).toBe(200);
    expect((await c.closed).code).toBe(4001);
    await expect(rawClient(hub.url, cred)).rejects.toThrow('http 403');
  });

  it('refuses frames that speak for another node, and stores nothing for it', async () => {
    const credA = (await hub.store.issueNodeCredential('node-a'));
    await hub.store.issueNodeCredential('node-b');
    const c = await rawClient(hub.url, credA);
    c.send(frame('usage', { node: 'node-b', record: { stolen: true } }, 1));
    c.send(frame('hello', { node: 'node-b', agentVersion: 'x', appliedRevision: null, inventory: { gpus: [], resources: [] } }));
    await waitFor(() => c.frames.filter((f) => f.type === 'error').length === 2, 5000, 'two errors');
    expect(c.frames.map((f) => (f.body as { code?: string; field?: string; message?: string }))).toEqual([
      { code: 'AUTH_FORBIDDEN', message: 'usage message speaks for node node-b, but the credential belongs to node-a', refType: 'usage', refId: expect.any(String), field: '/body/node' },
      { code: 'AUTH_FORBIDDEN', message: 'hello message speaks for node node-b, but the credential belongs to node-a', refType: 'hello', refId: expect.any(String), field: '/body/node' },
    ]);
    expect((await hub.store.usageRecords())).toEqual([]);
    expect((await hub.store.nodes()).find((n) => n.name === 'node-b')?.agentVersion).toBeNull();
    c.ws.close();
  });

  it('refuses a usage record made out for another node', async () => {
    const cred = (await hub.store.issueNodeCredential('node-c'));
    const c = await rawClient(hub.url, cred);
    c.send(frame('usage', { node: 'node-c', record: { node: 'node-d', seconds: 60 } }, 1));
    const err = await waitFor(() => c.frames.find((f) => f.type === 'error'), 5000, 'error');
    expect(err.body).toMatchObject({ code: 'AUTH_FORBIDDEN', message: 'usage record is for node node-d, but the credential belongs to node-c', field: '/body/record/node' });
    expect((await hub.store.usageRecords('node-c'))).toEqual([]);
    c.ws.close();
  });

  it('requires an admin token for the admin api', async () => {
    const cred = (await hub.store.issueNodeCredential('gpu-04'));
    expect((await fetch(`${hub.url}/api/v1/nodes`)).status).toBe(401);
    expect((await fetch(`${hub.url}/api/v1/nodes`, { headers: { authorization: `Bearer ${cred}` } })).status).toBe(401);
    const admin = (await hub.store.createAdminToken('list'));
    const body = (await (await fetch(`${hub.url}/api/v1/nodes`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { nodes: Array<{ name: string }> };
    expect(body.nodes.map((n) => n.name)).toContain('gpu-04');
    expect(JSON.stringify(body)).not.toContain('hash');
  });
});

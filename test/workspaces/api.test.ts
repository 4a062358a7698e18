/* eslint-disable @typescript-eslint/no-explicit-any -- responses are JSON checked by value */
import { it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fleetFiles, gitSync, gpuUuid, showAtTip } from './git-fixture.js';
import { startWsHub, type WsHub } from './hub-fixture.js';
import { describeIfBuilt } from '../support/requires.js';

// Pushes run the pre-receive hook from dist/: `npm test` builds first.
const describeBuilt = describeIfBuilt('dist/hub/git/pre-receive-hook.js');
const H100 = 'NVIDIA H100 80GB HBM3';

let hub: WsHub;
beforeAll(async () => {
  hub = await startWsHub(fleetFiles({ nodes: 2, gpus: 2, acmeQuota: 3 }), ['gpu-01', 'gpu-02']);
}, 60_000);
afterAll(async () => hub?.close());

/** Runs the hub's sync pass until `done` holds (a generous deadline: under load a pass can take seconds). */
async function syncUntil(done: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > end) throw new Error('the hub did not sync the pushed revision in time');
    await hub.app.hub.gitops!.workspaces.sync().catch(() => undefined);
    if (!(await done())) await new Promise((r) => setTimeout(r, 100));
  }
}

const lastCommit = (): string => gitSync(['--git-dir', hub.repoDir, 'log', '-1', '--format=%an|%s', 'main'], hub.dir).stdout.trim();

describeBuilt('workspaces API', () => {
  it('places a request, commits the workspace file as foundry-hub and answers 201 with the placement', async () => {
    const r = await hub.call('POST', '/api/v1/workspaces', { tenant: 'acme', body: { tenant: 'acme', template: 'tiny', gpus: { count: 1, model: H100 }, name: 'acme-a', labels: { owner: 'alice' } } });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ name: 'acme-a', tenant: 'acme', node: 'gpu-01', gpus: { model: H100, uuids: [gpuUuid('gpu-01', 0)] } });
    expect(r.json.explanation.split('\n')[0]).toBe('place acme-a on gpu-01');
    expect(r.json.status).toMatchObject({ phase: 'Placed', reason: 'Scheduled' });
    expect(r.json.status.pendingAt <= r.json.status.placedAt).toBe(true);
    const file = showAtTip(hub.repoDir, 'workspaces/acme/acme-a.yaml')!;
    expect(file).toContain('node: gpu-01');
    expect(file).toContain(`- ${gpuUuid('gpu-01', 0)}`);
    expect(file).toContain('owner: alice');
    expect(lastCommit()).toBe('foundry-hub|place acme-a on gpu-01');
    expect(r.json.revision).toBe(gitSync(['--git-dir', hub.repoDir, 'rev-parse', 'main'], hub.dir).stdout.trim());
    expect((await hub.store.auditLog()).filter((a) => a.action === 'workspace.create')).toEqual([{ actor: 'tenant:user-of-acme', action: 'workspace.create', target: 'acme-a' }]);
  });

  it('bin-packs the next request onto the same node, then refuses with per-reason counts', async () => {
    const b = await hub.call('POST', '/api/v1/workspaces', { body: { tenant: 'globex', template: 'tiny', gpus: { count: 1 }, name: 'globex-b' } });
    expect(b.status).toBe(201);
    expect(b.json).toMatchObject({ node: 'gpu-01', gpus: { uuids: [gpuUuid('gpu-01', 1)] } });
    const none = await hub.call('POST', '/api/v1/workspaces', { body: { tenant: 'globex', template: 'tiny', gpus: { count: 3 }, name: 'globex-big' } });
    expect(none.status).toBe(409);
    expect(none.json.code).toBe('PLACEMENT_NONE');
    expect(none.json.reasons).toEqual([{ reason: 'not enough free GPUs (need 3)', nodes: 2 }]);
    expect(none.json.message).toBe('no placement for globex-big: 2 nodes: not enough free GPUs (need 3)');
    expect(showAtTip(hub.repoDir, 'workspaces/globex/globex-big.yaml')).toBeUndefined();
  });

  it('enforces the tenant quota', async () => {
    expect((await hub.call('POST', '/api/v1/workspaces', { tenant: 'acme', body: { tenant: 'acme', template: 'tiny', gpus: { count: 2 }, name: 'acme-c' } })).status).toBe(201);
    const q = await hub.call('POST', '/api/v1/workspaces', { tenant: 'acme', body: { tenant: 'acme', template: 'tiny', gpus: { count: 1 }, name: 'acme-d' } });
    expect(q.status).toBe(409);
    expect(q.json.reasons).toEqual([{ reason: 'tenant acme: quota 3 GPUs, holds 3, asks 1', nodes: 0 }]);
  });

  it('validates the body and refuses other tenants and anonymous callers', async () => {
    const bad = await hub.call('POST', '/api/v1/workspaces', { body: { tenant: 'acme', template: 'tiny', gpus: { count: -1 }, extra: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.json.errors).toEqual(['(root): must NOT have additional properties', '/gpus/count: must be >= 0']);
    expect((await hub.call('POST', '/api/v1/workspaces', { tenant: 'globex', body: { tenant: 'acme', template: 'tiny', gpus: { count: 0 } } })).status).toBe(403);
    expect((await hub.call('POST', '/api/v1/workspaces', { anonymous: true, body: { tenant: 'acme', template: 'tiny', gpus: { count: 0 } } })).status).toBe(401);
    const unknown = await hub.call('POST', '/api/v1/workspaces', { body: { tenant: 'nobody', template: 'tiny', gpus: { count: 0 } } });
    expect(unknown.status).toBe(404);
    expect(unknown.json.message).toBe('no tenant nobody in the infra repo');
    const dup = await hub.call('POST', '/api/v1/workspaces', { body: { tenant: 'acme', template: 'tiny', gpus: { count: 0 }, name: 'acme-a' } });
    expect(dup.status).toBe(409);
    expect(dup.json.code).toBe('CONFLICT');
  });

  it('lists per tenant: admins see all, tenants only their own', async () => {
    const all = await hub.call('GET', '/api/v1/workspaces');
    expect(all.json.workspaces.map((w: { name: string }) => w.name)).toEqual(['acme-a', 'acme-c', 'globex-b']);
    const mine = await hub.call('GET', '/api/v1/workspaces', { tenant: 'globex' });
    expect(mine.json.workspaces.map((w: { name: string }) => w.name)).toEqual(['globex-b']);
    expect(mine.json.workspaces[0]).toMatchObject({ tenant: 'globex', template: 'tiny', node: 'gpu-01', state: 'running', file: 'workspaces/globex/globex-b.yaml', status: { phase: 'Placed' } });
    expect((await hub.call('GET', '/api/v1/workspaces?tenant=acme', { tenant: 'globex' })).status).toBe(403);
    expect((await hub.call('GET', '/api/v1/workspaces/acme-a', { tenant: 'globex' })).status).toBe(404);
    const one = await hub.call('GET', '/api/v1/workspaces/acme-a', { tenant: 'acme' });
    expect(one.status).toBe(200);
    expect(one.json.events.map((e: { phase: string }) => e.phase)).toEqual(['Pending', 'Placed']);
  });

  it('derives Running and Failed from the agents\' status reports', async () => {
    const link = hub.links.get('gpu-01')!;
    link.sendStatus({ conditions: [], resources: [
      { id: 'ws.acme-a.net', kind: 'network', workspace: 'acme-a', conditions: [{ type: 'Ready', status: 'True', reason: 'UpToDate' }] },
      { id: 'ws.acme-a.main', kind: 'container', workspace: 'acme-a', conditions: [{ type: 'Ready', status: 'True', reason: 'Created' }] },
      { id: 'ws.globex-b.main', kind: 'container', workspace: 'globex-b', conditions: [{ type: 'Ready', status: 'False', reason: 'ImageMissing' }, { type: 'Stalled', status: 'True', reason: 'ImageMissing', message: 'image localhost/foundry-test:1 is not present' }] },
    ] });
    const until = Date.now() + 10_000;
    let a: any;
    let b: any;
    do {
      await new Promise((r) => setTimeout(r, 50));
      a = (await hub.call('GET', '/api/v1/workspaces/acme-a')).json;
      b = (await hub.call('GET', '/api/v1/workspaces/globex-b')).json;
    } while ((a.status.phase !== 'Running' || b.status.phase !== 'Failed') && Date.now() < until);
    expect(a.status).toMatchObject({ phase: 'Running', reason: 'AgentReportsReady', message: 'gpu-01 reports 1 resource ready' });
    expect(typeof a.status.runningAt).toBe('string');
    expect(b.status).toMatchObject({ phase: 'Failed', reason: 'ImageMissing', message: 'ws.globex-b.main: image localhost/foundry-test:1 is not present' });
    expect((await hub.store.auditLog()).filter((e) => e.target === 'acme-a').map((e) => e.action)).toContain('workspace.running');
  });

  it('stops and starts through spec.state, deletes the file and frees its GPUs', async () => {
    expect((await hub.call('POST', '/api/v1/workspaces/acme-c/stop', { tenant: 'globex' })).status).toBe(404);
    const stop = await hub.call('POST', '/api/v1/workspaces/acme-c/stop', { tenant: 'acme' });
    expect(stop.json).toEqual({ name: 'acme-c', state: 'stopped', changed: true });
    expect(showAtTip(hub.repoDir, 'workspaces/acme/acme-c.yaml')).toContain('state: stopped');
    expect((await hub.call('GET', '/api/v1/workspaces/acme-c')).json.status.phase).toBe('Stopped');
    expect((await hub.call('POST', '/api/v1/workspaces/acme-c/stop')).json.changed).toBe(false);
    expect((await hub.call('POST', '/api/v1/workspaces/acme-c/start')).json.changed).toBe(true);
    expect(showAtTip(hub.repoDir, 'workspaces/acme/acme-c.yaml')).toContain('state: running');
    const del = await hub.call('DELETE', '/api/v1/workspaces/acme-c', { tenant: 'acme' });
    expect(del.json).toEqual({ name: 'acme-c', deleted: true });
    expect(showAtTip(hub.repoDir, 'workspaces/acme/acme-c.yaml')).toBeUndefined();
    expect(lastCommit()).toBe('foundry-hub|delete workspace acme-c');
    const gone = await hub.call('GET', '/api/v1/workspaces/acme-c');
    expect(gone.json.status.phase).toBe('Deleted');
    expect((await hub.call('DELETE', '/api/v1/workspaces/acme-c')).status).toBe(404);
    // its two GPUs on gpu-02 are free again
    const again = await hub.call('POST', '/api/v1/workspaces', { body: { tenant: 'globex', template: 'tiny', gpus: { count: 2 }, name: 'globex-e' } });
    expect(again.json).toMatchObject({ node: 'gpu-02', gpus: { uuids: [gpuUuid('gpu-02', 0), gpuUuid('gpu-02', 1)] } });
    expect((await hub.call('DELETE', '/api/v1/workspaces/globex-e')).status).toBe(200);
  });

  it('drains a node through Git (admins only): no new placements there', async () => {
    expect((await hub.call('POST', '/api/v1/nodes/gpu-02/drain', { tenant: 'acme' })).status).toBe(403);
    expect((await hub.call('POST', '/api/v1/nodes/gpu-02/drain')).json).toEqual({ node: 'gpu-02', drain: true, changed: true });
    expect(showAtTip(hub.repoDir, 'nodes/gpu-02.yaml')).toContain('drain: true');
    expect(lastCommit()).toBe('foundry-hub|drain node gpu-02');
    const r = await hub.call('POST', '/api/v1/workspaces', { body: { tenant: 'globex', template: 'tiny', gpus: { count: 1 }, name: 'globex-f' } });
    expect(r.status).toBe(409);
    expect(r.json.reasons).toEqual([{ reason: 'draining', nodes: 1 }, { reason: 'not enough free GPUs (need 1)', nodes: 1 }]);
    expect((await hub.call('POST', '/api/v1/nodes/nope/drain')).status).toBe(404);
    expect((await hub.call('POST', '/api/v1/nodes/gpu-02/undrain')).json.changed).toBe(true);
  });

  it('sees a node go offline and come back (the placement queue re-reads the live view)', async () => {
    await hub.links.get('gpu-02')!.close();
    const end = Date.now() + 10_000;
    while (hub.app.hub.gateway.connectedNodes().includes('gpu-02') && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    const r = await hub.call('POST', '/api/v1/workspaces', { body: { tenant: 'globex', template: 'tiny', gpus: { count: 1 }, name: 'globex-off' } });
    expect(r.status).toBe(409);
    expect(r.json.reasons).toEqual([{ reason: 'offline', nodes: 1 }, { reason: 'not enough free GPUs (need 1)', nodes: 1 }]);
    await hub.connect('gpu-02');
  });

  it('places a workspace an admin pushed without a node, and follows an admin\'s move', { timeout: 120_000 }, async () => {
    const clone = join(hub.dir, 'admin');
    gitSync(['clone', '--quiet', hub.repoDir, clone], hub.dir);
    mkdirSync(join(clone, 'workspaces', 'globex'), { recursive: true });
    writeFileSync(join(clone, 'workspaces', 'globex', 'globex-g.yaml'), '# pushed by an admin\napiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: globex-g\nspec:\n  tenant: globex\n  template: tiny\n  gpus:\n    count: 1\n');
    gitSync(['add', '-A'], clone);
    gitSync(['commit', '--quiet', '-m', 'admin adds globex-g'], clone);
    // what load makes likely: a periodic sync pass is already running (it read the old tip) when the push lands
    void hub.app.hub.gitops!.workspaces.sync();
    await hub.app.hub.gitops!.writer.tip();
    gitSync(['push', '--quiet', 'origin', 'HEAD:main'], clone);
    // The hub places it on its next sync pass: wait for that (a pass already running may predate the push).
    await syncUntil(() => showAtTip(hub.repoDir, 'workspaces/globex/globex-g.yaml')?.includes('node: gpu-02') === true);
    const file = showAtTip(hub.repoDir, 'workspaces/globex/globex-g.yaml')!;
    expect(file).toContain('# pushed by an admin');
    expect(file).toContain('node: gpu-02');
    expect(file).toContain(`uuids:\n      - ${gpuUuid('gpu-02', 0)}`);
    expect(lastCommit()).toBe('foundry-hub|place globex-g on gpu-02');
    expect((await hub.call('GET', '/api/v1/workspaces/globex-g')).json.status).toMatchObject({ phase: 'Placed' });
    expect((await hub.call('GET', '/api/v1/workspaces/globex-g')).json.node).toBe('gpu-02');
    // the admin moves acme-a to gpu-02's second GPU: the hub follows Git and hands gpu-01's first GPU out again
    gitSync(['pull', '--quiet', 'origin', 'main'], clone);
    const path = join(clone, 'workspaces', 'acme', 'acme-a.yaml');
    writeFileSync(path, readFileSync(path, 'utf8').replace('node: gpu-01', 'node: gpu-02').replace(gpuUuid('gpu-01', 0), gpuUuid('gpu-02', 1)));
    gitSync(['commit', '--quiet', '-am', 'admin moves acme-a'], clone);
    gitSync(['push', '--quiet', 'origin', 'HEAD:main'], clone);
    // a sync pass that saw the move has refreshed the placement queue before it records the new node
    await syncUntil(async () => (await hub.app.hub.gitops!.lifecycle.get('acme-a'))?.node === 'gpu-02');
    expect((await hub.call('GET', '/api/v1/workspaces/acme-a')).json).toMatchObject({ node: 'gpu-02', status: { phase: 'Placed' } });
    const h = await hub.call('POST', '/api/v1/workspaces', { body: { tenant: 'globex', template: 'tiny', gpus: { count: 1 }, name: 'globex-h' } });
    expect(h.json).toMatchObject({ node: 'gpu-01', gpus: { uuids: [gpuUuid('gpu-01', 0)] } });
  });
});

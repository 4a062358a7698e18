import { it, expect, beforeEach, afterEach } from 'vitest';
import { rmSync } from 'node:fs';
import { HubLink } from '../../agent/link/hub-link.js';
import { startTestHub, rawClient, frame, waitFor, tempDir, type TestHub } from './support.js';
import { describeBackends } from '../support/store-backends.js';

let hub: TestHub;
let dirs: string[];

function link(node: string, credential: string): HubLink {
  const stateDir = tempDir('foundry-link-');
  dirs.push(stateDir);
  return new HubLink({ hubUrl: hub.url, node, credential, stateDir, agentVersion: '9.9.9', hello: () => ({ appliedRevision: 'abc123', inventory: { gpus: [{ uuid: 'GPU-1', model: 'H100' }], resources: ['Workspace/alice'] } }) });
}

// The whole gateway (hello, usage acks after the commit, duplicates, commands, bad frames) on each store backend.
describeBackends('agent gateway', (backend) => {
  beforeEach(async () => {
    hub = await startTestHub({ badFrameLimit: 5, telemetryFlushMs: 50, backend });
    dirs = [];
  });
  afterEach(async () => {
    await hub.close();
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });

  it('records hello, commits usage and status, acks, and empties the outbox', async () => {
    const cred = (await hub.store.issueNodeCredential('gpu-01'));
    const l = link('gpu-01', cred).start();
    await waitFor(() => hub.app.hub.gateway.connectedNodes().includes('gpu-01'), 5000, 'connection');
    const first = l.firstSeq();
    expect(l.enqueueUsage({ workspace: 'alice', gpus: 1, seconds: 10 })).toBe(first);
    expect(l.enqueueUsage({ workspace: 'alice', gpus: 1, seconds: 10 })).toBe(first + 1);
    expect(l.sendStatus({ conditions: [{ type: 'Ready', status: 'True', reason: 'Applied' }], resources: [], lastAppliedRevision: 'abc123', reconcile: { result: 'success', durationMs: 12 } })).toBe(first + 2);
    await waitFor(() => l.pending() === 0, 5000, 'acks');
    expect((await hub.store.usageRecords('gpu-01')).map((r) => [r.seq, r.payload])).toEqual([[first, { workspace: 'alice', gpus: 1, seconds: 10 }], [first + 1, { workspace: 'alice', gpus: 1, seconds: 10 }]]);
    expect((await hub.store.nodeStatus('gpu-01'))?.seq).toBe(first + 2);
    const node = (await hub.store.nodes()).find((n) => n.name === 'gpu-01');
    expect(node).toMatchObject({ status: 'connected', agentVersion: '9.9.9', appliedRevision: 'abc123', revoked: false });
    expect(l.sendTelemetry({ at: 120_000, gpus: [{ uuid: 'GPU-1', utilizationGpuPct: 50, memoryUsedMiB: 1000, memoryTotalMiB: 80000 }], host: { cpuPct: 5, memUsedBytes: 1, memTotalBytes: 2 } })).toBe(true);
    await waitFor(async () => (await hub.store.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM telemetry_latest'))?.n === 1, 5000, 'telemetry');
    expect((await fetch(`${hub.url}/metrics`)).status).toBe(401);
    const metrics = await (await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${(await hub.store.createAdminToken('prometheus'))}` } })).text();
    expect(metrics).toContain('foundry_hub_connected_agents 1');
    expect(metrics).toContain('foundry_hub_messages_in_total{type="usage"} 2');
    expect(metrics).toContain('foundry_hub_reconcile_results_total{result="success"} 1');
    expect(metrics).toContain('foundry_hub_outbox_items_total{outcome="new"} 3');
    expect(metrics).toMatch(/foundry_hub_ingest_seconds_count 3/);
    await l.close();
    await waitFor(async () => (await hub.store.nodes())[0]?.status === 'disconnected', 5000, 'disconnect');
  });

  it('acks duplicates without storing them twice', async () => {
    const cred = (await hub.store.issueNodeCredential('gpu-01'));
    const c = await rawClient(hub.url, cred);
    const usage = frame('usage', { node: 'gpu-01', record: { n: 1 } }, 7);
    c.send(usage);
    c.send(usage);
    await waitFor(() => c.frames.filter((f) => f.type === 'ack').flatMap((f) => (f.body as { seqs: number[] }).seqs).length === 2, 5000, 'two acks');
    expect((await hub.store.usageRecords())).toHaveLength(1);
    c.ws.close();
  });

  it('sends commands to connected agents and calls their handlers', async () => {
    const cred = (await hub.store.issueNodeCredential('gpu-01'));
    const got: string[] = [];
    const stateDir = tempDir('foundry-link-');
    dirs.push(stateDir);
    const l = new HubLink({ hubUrl: hub.url, node: 'gpu-01', credential: cred, stateDir, handlers: { syncNow: (c) => got.push(`sync ${c.revision}`), drain: () => got.push('drain') } }).start();
    l.onCommand((c) => got.push(`any ${c.name}`));
    await waitFor(() => hub.app.hub.gateway.connectedNodes().length === 1, 5000, 'connection');
    expect(hub.app.hub.notifyRevision('deadbeef', 'refs/heads/main', 'push', 'admin:test')).toBe(1);
    expect(hub.app.hub.gateway.command('gpu-01', { name: 'drain' })).toBe(true);
    await waitFor(() => got.length === 4, 5000, 'commands');
    expect(got).toEqual(['sync deadbeef', 'any sync-now', 'drain', 'any drain']);
    expect((await hub.store.auditLog()).at(-1)).toEqual({ actor: 'admin:test', action: 'repo.push', target: 'refs/heads/main' });
    await l.close();
  });

  it('answers an invalid frame with an error naming type and field, and keeps the connection', async () => {
    const cred = (await hub.store.issueNodeCredential('gpu-01'));
    const c = await rawClient(hub.url, cred);
    c.send(frame('usage', { node: 'gpu-01', record: [] }, 1));
    const err = await waitFor(() => c.frames.find((f) => f.type === 'error'), 5000, 'error frame');
    expect((err.body as Record<string, unknown>)).toMatchObject({ code: 'PROTOCOL_FRAME', message: 'usage message: /body/record must be object', field: '/body/record', refType: 'usage' });
    c.send(frame('usage', { node: 'gpu-01', record: { ok: true } }, 1));
    await waitFor(() => c.frames.some((f) => f.type === 'ack'), 5000, 'ack after error');
    expect(c.ws.readyState).toBe(c.ws.OPEN);
    c.ws.close();
  });

  it('disconnects a peer that keeps sending garbage', async () => {
    const cred = (await hub.store.issueNodeCredential('gpu-01'));
    const c = await rawClient(hub.url, cred);
    for (let i = 0; i < 5; i++) c.send('garbage');
    expect(await c.closed).toEqual({ code: 1008, reason: 'too many invalid frames' });
    expect(c.frames.filter((f) => f.type === 'error')).toHaveLength(5);
  });

  it('replaces an older connection of the same node', async () => {
    const cred = (await hub.store.issueNodeCredential('gpu-01'));
    const a = await rawClient(hub.url, cred);
    const b = await rawClient(hub.url, cred);
    expect((await a.closed).code).toBe(4000);
    expect(hub.app.hub.gateway.connectedNodes()).toEqual(['gpu-01']);
    b.ws.close();
  });

  it('answers health and readiness', async () => {
    expect(await (await fetch(`${hub.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${hub.url}/readyz`)).json()).toEqual({ status: 'ready' });
  });
});

/**
 * Usage cannot be forged: an attacker holding one enrolled node's credential talks to a real hub (hosted
 * infra repo, real WebSocket) and sends usage records for a workspace on another node, for another
 * tenant, for a workspace that does not exist, before the node enrolled, a year ahead, twenty years in
 * one record, petabytes of storage, and a malformed one. Each is acked as refused with its reason (the
 * outbox drains), counted, listed for admins and never billed; the node's legitimate record is billed.
 * Telemetry out of range never reaches /metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { rawClient, frame, waitFor } from './support.js';
import { fleetFiles, gpuUuid } from '../workspaces/git-fixture.js';
import { startWsHub, type WsHub } from '../workspaces/hub-fixture.js';
import { HubLink } from '../../agent/link/hub-link.js';
import type { GpuAllocationRecord, ResourceAllocationRecord } from '../../common/protocol/codec.js';

const H = 3_600_000;
const MODEL = 'NVIDIA H100 80GB HBM3';
const placedWs = (name: string, tenant: string, node: string, gpu: string): string =>
  `apiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: ${name}\nspec:\n  tenant: ${tenant}\n  template: tiny\n  node: ${node}\n  gpus:\n    count: 1\n    uuids: [${gpu}]\n`;

function gpuRecord(from: number, to: number, over: Partial<GpuAllocationRecord> = {}): GpuAllocationRecord {
  return {
    kind: 'gpu-allocation', version: 1, key: `gpu-01/alice/${gpuUuid('gpu-01', 0)}/${from}`, node: 'gpu-01', workspace: 'alice', tenant: 'acme', gpuUuid: gpuUuid('gpu-01', 0), gpuModel: MODEL,
    from, to, fromIso: new Date(from).toISOString(), toIso: new Date(to).toISOString(), seconds: (to - from) / 1000, measuredAvgUtilizationPct: 40, measuredSamples: 3, ...over,
  };
}
function resourceRecord(from: number, to: number, over: Partial<ResourceAllocationRecord> = {}): ResourceAllocationRecord {
  return {
    kind: 'resource-allocation', version: 1, key: `gpu-01/alice/resources/${from}`, node: 'gpu-01', workspace: 'alice', tenant: 'acme', milliVcpus: 0, memoryBytes: 0, storageBytes: 0,
    from, to, fromIso: new Date(from).toISOString(), toIso: new Date(to).toISOString(), seconds: (to - from) / 1000, ...over,
  };
}

describe('usage admission against a real hub (attacker with one node credential)', () => {
  let hub: WsHub;
  let credential: string;
  let t0: number;

  beforeAll(async () => {
    const files = fleetFiles({ nodes: 2, gpus: 1 });
    files['workspaces/acme/alice.yaml'] = placedWs('alice', 'acme', 'gpu-01', gpuUuid('gpu-01', 0));
    files['workspaces/globex/bob.yaml'] = placedWs('bob', 'globex', 'gpu-02', gpuUuid('gpu-02', 0));
    hub = await startWsHub(files);
    credential = (await hub.store.issueNodeCredential('gpu-01'));
    // a whole 10 s slot that started a minute ago: after the placement commit (within the clock-skew allowance) and enrollment
    t0 = Math.floor((Date.now() - 60_000) / 10_000) * 10_000;
  }, 60_000);
  afterAll(async () => {
    await hub?.close();
  });

  const invoiceLines = async (tenant: string): Promise<Array<[string, number, string]>> => {
    const month = new Date(t0).toISOString().slice(0, 7);
    const r = await hub.call('GET', `/api/v1/tenants/${tenant}/invoices/${month}`);
    expect(r.status).toBe(200);
    return (r.json.lines as Array<{ workspace: string; seconds: number; amount: string }>).map((l) => [l.workspace, l.seconds, l.amount]);
  };

  it('refuses each forged record with its reason, acks it so the outbox drains, bills none of it, and bills the legitimate one', async () => {
    expect(await invoiceLines('acme')).toEqual([]);
    expect(await invoiceLines('globex')).toEqual([]);
    const bob = { workspace: 'bob', tenant: 'globex', gpuUuid: gpuUuid('gpu-02', 0), key: 'k-bob' };
    const forged: Array<[string, unknown]> = [
      ['not-placed-on-node', gpuRecord(t0, t0 + 30_000, bob)],
      ['wrong-tenant', gpuRecord(t0, t0 + 30_000, { tenant: 'globex' })],
      ['unknown-workspace', gpuRecord(t0, t0 + 30_000, { workspace: 'ghost' })],
      ['before-enrollment', gpuRecord(t0 - 24 * H, t0 - 24 * H + 30_000)],
      ['in-future', gpuRecord(t0 + 365 * 24 * H, t0 + 365 * 24 * H + 30_000)],
      ['too-long', gpuRecord(t0, t0 + 20 * 365 * 24 * H)],
      ['exceeds-template', resourceRecord(t0, t0 + 30_000, { storageBytes: 2 ** 50 })],
      ['gpu-not-assigned', gpuRecord(t0, t0 + 30_000, { gpuUuid: gpuUuid('gpu-02', 0) })],
      ['malformed', { ...gpuRecord(t0, t0 + 30_000), seconds: 'thirty' }],
    ];
    const c = await rawClient(hub.url, credential);
    forged.forEach(([, record], i) => c.send(frame('usage', { node: 'gpu-01', record }, i + 1)));
    const legit = forged.length + 1;
    c.send(frame('usage', { node: 'gpu-01', record: gpuRecord(t0, t0 + 30_000) }, legit));
    // every seq in a plain ack (an older agent drains too), the refused ones named again with their reason
    const plain = (): number[] => c.frames.filter((f) => f.type === 'ack' && !('refused' in (f.body as object))).flatMap((f) => (f.body as { seqs: number[] }).seqs);
    await waitFor(() => plain().length === legit, 10_000, 'every seq acked');
    expect(plain().sort((a, b) => a - b)).toEqual(Array.from({ length: legit }, (_, i) => i + 1));
    const refusedAcks = () => c.frames.filter((f) => f.type === 'ack').flatMap((f) => (f.body as { refused?: Array<{ seq: number; reason: string; field?: string }> }).refused ?? []);
    const refused = await waitFor(() => (refusedAcks().length === forged.length ? refusedAcks() : undefined), 5000, 'refusals');
    expect(refused.sort((a, b) => a.seq - b.seq).map((r) => [r.seq, r.reason])).toEqual(forged.map(([reason], i) => [i + 1, reason]));
    expect(refused.find((r) => r.reason === 'malformed')?.field).toBe('/body/record/seconds');
    expect(refused.find((r) => r.reason === 'exceeds-template')?.field).toBe('/body/record/storageBytes');
    expect(c.frames.filter((f) => f.type === 'error')).toEqual([]);
    c.ws.close();

    // stored: only the legitimate record is usage; billed: only it
    expect((await hub.store.usageRecords()).map((r) => r.seq)).toEqual([legit]);
    expect(await invoiceLines('acme')).toEqual([['alice', 30, '0.02']]);
    expect(await invoiceLines('globex')).toEqual([]);

    // visible to admins with the reason, never to tenants; counted by reason
    const list = await hub.call('GET', '/api/v1/usage/refused?node=gpu-01');
    expect(list.status).toBe(200);
    expect((list.json.refused as Array<{ seq: number; reason: string }>).map((r) => [r.seq, r.reason]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual(forged.map(([reason], i) => [i + 1, reason]));
    expect(list.json.byReason['in-future']).toBe(1);
    expect((await hub.call('GET', '/api/v1/usage/refused', { tenant: 'acme' })).status).toBe(403);
    expect((await hub.call('GET', '/api/v1/usage/refused?reason=bogus')).status).toBe(400);
    const metrics = (await hub.call('GET', '/metrics')).text;
    for (const [reason] of forged) expect(metrics).toContain(`foundry_hub_usage_refused_total{reason="${reason}"} 1`);
  });

  it("drains a real agent's outbox of refused records (HubLink), billing only its legitimate record", async () => {
    const link = new HubLink({ hubUrl: hub.url, node: 'gpu-01', credential, stateDir: join(hub.dir, 'agents', 'gpu-01-outbox') }).start();
    const refusedEvents: Array<Array<{ reason: string }>> = [];
    link.on('refused', (r: Array<{ reason: string }>) => refusedEvents.push(r));
    try {
      await waitFor(() => link.connected, 5000, 'link');
      link.enqueueUsage({ ...gpuRecord(t0 + 30_000, t0 + 60_000), workspace: 'ghost' } as unknown as Record<string, unknown>);
      link.enqueueUsage(gpuRecord(t0 + 30_000, t0 + 60_000) as unknown as Record<string, unknown>);
      await waitFor(() => link.pending() === 0, 10_000, 'outbox drained');
      expect(refusedEvents.flat().map((r) => r.reason)).toEqual(['unknown-workspace']);
      expect(await invoiceLines('acme')).toEqual([['alice', 60, '0.04']]);
    } finally {
      await link.close();
    }
  });

  it('drops telemetry readings that are out of range or of an undeclared GPU before /metrics, and counts them', async () => {
    const c = await rawClient(hub.url, credential);
    const gpu = (uuid: string, over: Record<string, unknown> = {}) => ({ uuid, utilizationGpuPct: 50, memoryUsedMiB: 1000, memoryTotalMiB: 81559, powerDrawW: 300, temperatureC: 60, model: MODEL, ...over });
    c.send(frame('hello', { node: 'gpu-01', agentVersion: 't', appliedRevision: null, inventory: { gpus: ['GPU-ok', 'GPU-util', 'GPU-mem', 'GPU-pow', 'GPU-temp'].map((uuid) => ({ uuid, model: MODEL })), resources: [] } }));
    c.send(frame('telemetry', {
      node: 'gpu-01', at: Date.now(), host: { cpuPct: 1, memUsedBytes: 1, memTotalBytes: 2 },
      gpus: [gpu('GPU-ok'), gpu('GPU-util', { utilizationGpuPct: 150 }), gpu('GPU-mem', { memoryUsedMiB: 90_000 }), gpu('GPU-pow', { powerDrawW: 1e9 }), gpu('GPU-temp', { temperatureC: -300 }), gpu('GPU-forged')],
    }));
    const scrape = async (): Promise<string> => (await hub.call('GET', '/metrics')).text;
    await waitFor(async () => (await scrape()).includes('gpu_uuid="GPU-ok"'), 5000, 'good series');
    const text = await scrape();
    for (const uuid of ['GPU-util', 'GPU-mem', 'GPU-pow', 'GPU-temp', 'GPU-forged']) expect(text).not.toContain(`gpu_uuid="${uuid}"`);
    for (const reason of ['utilization-range', 'memory-over-total', 'power-range', 'temperature-range', 'undeclared-gpu']) expect(text).toContain(`foundry_hub_telemetry_dropped_total{reason="${reason}"} 1`);
    c.ws.close();
  });
});

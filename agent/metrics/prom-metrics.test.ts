import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubLink } from '../link/hub-link.js';
import { sampleValue, samples } from '../../test/support/prom-text.js';
import { startMetricsServer, type MetricsServer } from './metrics-server.js';
import { PromAgentMetrics } from './prom-metrics.js';

describe('PromAgentMetrics', () => {
  it('reads the outbox at scrape time: records waiting and the oldest one\'s age (0 when empty or not enrolled)', async () => {
    let now = 1_000_000;
    let waiting: number[] = [];
    const m = new PromAgentMetrics({ version: 'v', now: () => now, outbox: () => ({ records: () => waiting.length, oldestAt: () => waiting[0] }) });
    expect(sampleValue(await m.registry.metrics(), 'foundry_agent_outbox_records')).toBe(0);
    expect(sampleValue(await m.registry.metrics(), 'foundry_agent_outbox_oldest_record_age_seconds')).toBe(0);
    waiting = [now - 90_000, now - 1_000];
    now += 500;
    const t = await m.registry.metrics();
    expect(sampleValue(t, 'foundry_agent_outbox_records')).toBe(2);
    expect(sampleValue(t, 'foundry_agent_outbox_oldest_record_age_seconds')).toBe(90.5);
    const unenrolled = new PromAgentMetrics({ version: 'v', outbox: () => undefined });
    expect(sampleValue(await unenrolled.registry.metrics(), 'foundry_agent_outbox_records')).toBe(0);
  });

  it('reads a real outbox: entries the hub has not acked (no hub here) and the oldest one\'s age', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fc-metrics-outbox-'));
    let link: HubLink | undefined;
    try {
      link = new HubLink({ hubUrl: 'http://127.0.0.1:1', node: 'n1', credential: 'fnc_x', stateDir: dir, hello: () => ({ appliedRevision: null, inventory: { gpus: [], resources: [] } }) });
      const l = link;
      const m = new PromAgentMetrics({ version: 'v', outbox: () => ({ records: () => l.pending(), oldestAt: () => l.oldestPendingAt() }) });
      expect(sampleValue(await m.registry.metrics(), 'foundry_agent_outbox_records')).toBe(0);
      const body = { observedRevision: null, lastAppliedRevision: null, conditions: [], resources: [], reconcile: { result: 'success' as const } };
      link.sendStatus(body);
      link.sendStatus(body);
      await new Promise((r) => setTimeout(r, 20));
      const t = await m.registry.metrics();
      expect(sampleValue(t, 'foundry_agent_outbox_records')).toBe(2);
      expect(sampleValue(t, 'foundry_agent_outbox_oldest_record_age_seconds')).toBeGreaterThan(0);
    } finally {
      await link?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('follows the hub link: connected 1/0, reconnects counted from the second connect on', async () => {
    const m = new PromAgentMetrics({ version: 'v' });
    const read = async (): Promise<[number | undefined, number | undefined]> => {
      const t = await m.registry.metrics();
      return [sampleValue(t, 'foundry_agent_hub_connected'), sampleValue(t, 'foundry_agent_hub_reconnects_total')];
    };
    expect(await read()).toEqual([0, 0]);
    m.hubLink(true);
    expect(await read()).toEqual([1, 0]);
    m.hubLink(false);
    expect(await read()).toEqual([0, 0]);
    m.hubLink(true);
    m.hubLink(false);
    m.hubLink(true);
    expect(await read()).toEqual([1, 2]);
  });

  it('times nvidia-smi by query and counts failures', async () => {
    const m = new PromAgentMetrics({ version: 'v' });
    m.smiCall('gpu', 0.03, true);
    m.smiCall('gpu', 5, false);
    m.smiCall('compute-apps', 0.02, true);
    const t = await m.registry.metrics();
    expect(sampleValue(t, 'foundry_agent_nvidia_smi_duration_seconds_count', { query: 'gpu' })).toBe(2);
    expect(sampleValue(t, 'foundry_agent_nvidia_smi_duration_seconds_sum', { query: 'gpu' })).toBe(5.03);
    expect(sampleValue(t, 'foundry_agent_nvidia_smi_duration_seconds_bucket', { query: 'gpu', le: '0.05' })).toBe(1);
    expect(sampleValue(t, 'foundry_agent_nvidia_smi_failures_total', { query: 'gpu' })).toBe(1);
    expect(sampleValue(t, 'foundry_agent_nvidia_smi_failures_total', { query: 'compute-apps' })).toBe(0);
  });

  it('shows each GPU of the last poll as healthy 1 / unhealthy 0; a GPU gone from the poll loses its series', async () => {
    const m = new PromAgentMetrics({ version: 'v' });
    m.gpuHealth([{ labels: { gpu_uuid: 'GPU-a', model: 'H100' }, value: 1 }, { labels: { gpu_uuid: 'GPU-b', model: 'H100' }, value: 0 }]);
    let t = await m.registry.metrics();
    expect(sampleValue(t, 'foundry_agent_gpu_healthy', { gpu_uuid: 'GPU-a', model: 'H100' })).toBe(1);
    expect(sampleValue(t, 'foundry_agent_gpu_healthy', { gpu_uuid: 'GPU-b', model: 'H100' })).toBe(0);
    m.gpuHealth([{ labels: { gpu_uuid: 'GPU-a', model: 'H100' }, value: 0 }]);
    t = await m.registry.metrics();
    expect(sampleValue(t, 'foundry_agent_gpu_healthy', { gpu_uuid: 'GPU-a', model: 'H100' })).toBe(0);
    expect(sampleValue(t, 'foundry_agent_gpu_healthy', { gpu_uuid: 'GPU-b', model: 'H100' })).toBeUndefined();
  });
});

describe('the metrics endpoint', () => {
  let server: MetricsServer | undefined;
  afterEach(async () => server?.close());

  it('serves GET /metrics in the Prometheus text format on the port it got, and nothing else', async () => {
    const m = new PromAgentMetrics({ version: '7.7.7' });
    server = await startMetricsServer({ host: '127.0.0.1', port: 0, loopback: true }, m.registry);
    expect(server.address.port).toBeGreaterThan(0);
    const base = `http://127.0.0.1:${server.address.port}`;
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const body = await res.text();
    expect(body).toContain('# TYPE foundry_agent_reconcile_total counter');
    expect(samples(body, 'foundry_agent_build_info')).toEqual([{ name: 'foundry_agent_build_info', labels: { version: '7.7.7' }, value: 1 }]);
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('rejects when the port is taken', async () => {
    const m = new PromAgentMetrics({ version: 'v' });
    server = await startMetricsServer({ host: '127.0.0.1', port: 0, loopback: true }, m.registry);
    await expect(startMetricsServer({ host: '127.0.0.1', port: server.address.port, loopback: true }, m.registry)).rejects.toThrow(/EADDRINUSE/);
  });
});

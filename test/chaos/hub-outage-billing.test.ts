/**
 * Hub down for a long stretch: two agents produce the same four simulated hours of GPU usage (a real
 * agent process each, on a simulated clock), one to a hub that stays up, one to a hub that is SIGKILLed
 * early and kept down for more than half the run. Afterwards both hubs store the same records, each seq
 * exactly once, and billing (coalesce → rate → invoices, CSV) is identical to the cent.
 */
import { afterAll, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { HubStore } from '../../hub/store/hub-store.js';
import { coalesce } from '../../hub/billing/coalesce.js';
import { rate } from '../../hub/billing/rate.js';
import { buildInvoices, invoiceCsv } from '../../hub/billing/invoice.js';
import { intervalFromRecord, type AgentUsageRecordFields } from '../../hub/billing/usage.js';
import type { PriceList } from '../../common/generated/price-list.js';
import { tempDir, waitFor } from '../hub/support.js';
import { collectLines, freePort, killAll, seqRange, startHubProcess, stopProcess, track } from './procs.js';
import { prepareChaosHub } from './chaos-fleet.js';
import { happened, tried } from './record.js';
import { describeIfBuilt } from '../support/requires.js';

const SLOTS = 1440; // 4 h of 10 s slots, from 22:00 on Nov 30 into December (a month cut)
const TICK_MS = 20;
const describeBuilt = describeIfBuilt('dist/agent/usage/usage-emitter.js');
const dir = tempDir('foundry-outage-');
afterAll(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

const prices: PriceList = {
  apiVersion: 'foundry.cloud/v1',
  kind: 'PriceList',
  metadata: { name: 'default' },
  spec: {
    currency: 'EUR',
    periods: [
      { effectiveFrom: '2026-01-01T00:00:00Z', gpuHour: { 'NVIDIA H100 80GB HBM3': '2.49', 'NVIDIA A100-SXM4-80GB': '1.29' } },
      { effectiveFrom: '2026-11-30T23:30:00Z', gpuHour: { 'NVIDIA H100 80GB HBM3': '2.19', 'NVIDIA A100-SXM4-80GB': '1.17' } },
    ],
  },
};

interface Side { name: string; hubDir: string; port: number; hub: ChildProcess; agent: ChildProcess; lines: string[] }

async function side(name: string): Promise<Side> {
  const hubDir = join(dir, name, 'hub');
  // enrolled, and the workspaces placed in its repo, before the simulated clock starts: the hub admits the usage
  const cred = await prepareChaosHub(hubDir);
  const port = await freePort();
  const hub = await startHubProcess(hubDir, port);
  const agent = track(process.execPath, [join(PACKAGE_ROOT, 'test', 'chaos', 'usage-agent.mjs')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, HUB_URL: `http://127.0.0.1:${port}`, NODE: 'gpu-01', CRED: cred, STATE_DIR: join(dir, name, 'agent'), START: '2026-11-30T22:00:00Z', SLOTS: String(SLOTS), TICK_MS: String(TICK_MS) },
  });
  return { name, hubDir, port, hub, agent, lines: collectLines(agent) };
}

const marker = (s: Side, msg: string): { firstSeq: number; lastSeq: number } | undefined =>
  s.lines.map((l) => JSON.parse(l) as { msg?: string; firstSeq: number; lastSeq: number }).find((l) => l.msg === msg);

async function billing(hubDir: string): Promise<{ seqs: number[]; payloads: string[]; csv: string[]; totals: string[] }> {
  const store = new HubStore(join(hubDir, 'hub.db'));
  try {
    const rows = (await store.usageRecords('gpu-01'));
    const intervals = coalesce(rows.map((r) => intervalFromRecord(r.payload as AgentUsageRecordFields)));
    const lines = rate(intervals, [prices]);
    const invoices = ['2026-11', '2026-12'].flatMap((m) => [...buildInvoices(m, lines).values()]);
    return {
      seqs: rows.map((r) => r.seq),
      payloads: rows.map((r) => JSON.stringify(r.payload)),
      csv: invoices.map(invoiceCsv),
      totals: invoices.map((i) => `${i.tenant} ${i.month} ${i.currency} ${i.totals.amount}`),
    };
  } finally {
    await store.close();
  }
}

describeBuilt('hub outage while the agent keeps buffering', () => {
  it('bills exactly what a run without the outage bills', async (ctx) => {
    tried(ctx, 'hub down for a long stretch while the agent buffers usage', `two real agent processes emit the same 4 simulated hours of usage (3 workspaces, 4 GPUs, 2 tenants, a price change and a month end; ${SLOTS} slots of 10 s, one slot per ${TICK_MS} ms); hub B is SIGKILLed after 5 s and kept down for 20 s (about 2.5 simulated hours), then restarted; hub A stays up`);
    const [a, b] = await Promise.all([side('steady'), side('outage')]);
    await new Promise((r) => setTimeout(r, 5_000));
    await stopProcess(b.hub, 'SIGKILL');
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, 20_000));
    const buffered = marker(b, 'emitted') === undefined ? 'still emitting' : 'all emitted';
    b.hub = await startHubProcess(b.hubDir, b.port);
    happened(ctx, `hub B down ${((Date.now() - downAt) / 1000).toFixed(0)} s (${buffered} when it came back)`);
    await waitFor(() => marker(a, 'drained') && marker(b, 'drained'), 180_000, 'both agents drained');
    for (const s of [a, b]) {
      await stopProcess(s.agent, 'SIGTERM');
      await stopProcess(s.hub, 'SIGTERM');
    }
    const steady = await billing(a.hubDir);
    const outage = await billing(b.hubDir);
    const { firstSeq, lastSeq } = marker(b, 'drained')!;
    const count = lastSeq - firstSeq + 1;
    happened(ctx, `${count} usage records each; every seq of each agent's outbox stored exactly once on its hub`);
    happened(ctx, `invoices equal: ${outage.totals.join(', ')}`);

    expect(count).toBeGreaterThan(SLOTS * 2);
    const steadyMarker = marker(a, 'drained')!;
    expect(outage.seqs).toEqual(seqRange(firstSeq, lastSeq));
    expect(steady.seqs).toEqual(seqRange(steadyMarker.firstSeq, steadyMarker.lastSeq));
    expect(steady.seqs).toHaveLength(count);
    expect(outage.payloads).toEqual(steady.payloads);
    expect(outage.csv).toEqual(steady.csv);
    expect(outage.totals).toHaveLength(4); // acme and globex, November and December
  }, 300_000);
});

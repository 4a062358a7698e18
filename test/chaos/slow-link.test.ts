/**
 * A slow, lossy link: the agent runs in its own network namespace (ip netns exec) and reaches the hub
 * over a veth pair shaped to 200 ms latency each way, 10 % packet loss and 1 Mbit/s (netem where the
 * kernel has it; otherwise nftables loss + tbf + a userspace delay proxy, see test/support/netns.ts),
 * with the cable pulled (veth down) for 5 s in the middle. Every record arrives exactly once.
 */
import { afterAll, expect, it, type TestContext } from 'vitest';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { HubStore } from '../../hub/store/hub-store.js';
import { tempDir, waitFor } from '../hub/support.js';
import { createNetns, netnsAvailable, type NetNs } from '../support/netns.js';
import { startDelayProxy, type DelayProxy } from './delay-proxy.js';
import { collectLines, freePort, killAll, seqRange, startHubProcess, stopProcess, track } from './procs.js';
import { prepareChaosHub } from './chaos-fleet.js';
import { happened, tried } from './record.js';
import { describeIf } from '../support/requires.js';

const SLOTS = 200;
const START = Date.parse('2026-11-30T22:00:00Z');
const dir = tempDir('foundry-slowlink-');
let ns: NetNs | undefined;
let proxy: DelayProxy | undefined;

afterAll(async () => {
  await killAll();
  await proxy?.close();
  ns?.remove();
  rmSync(dir, { recursive: true, force: true });
});

function expectedKeys(): string[] {
  const keys: string[] = [];
  for (let i = 0; i < SLOTS; i++) {
    const from = START + i * 10_000;
    if (i % 360 < 300) keys.push(`gpu-01/alice/GPU-0/${from}`, `gpu-01/alice/GPU-1/${from}`);
    if (i % 50 !== 7) keys.push(`gpu-01/bob/GPU-3/${from}`);
  }
  return keys.sort();
}

describeIf(netnsAvailable() && existsSync(join(PACKAGE_ROOT, 'dist', 'agent', 'link', 'hub-link.js')), 'network namespaces (root, iproute2) and a build (dist/)', 'run npm run chaos as root with iproute2 installed; it builds first')('slow and lossy link in a network namespace', () => {
  it('delivers every record exactly once over 200 ms, 10 % loss, 1 Mbit/s and a pulled cable', async (ctx: TestContext) => {
    tried(ctx, 'network: slow link (network namespace, delay and loss)', `an agent process in its own network namespace (veth pair, 10.251.77.0/30) sends ${SLOTS} slots of usage to a hub process over a link of 200 ms each way, 10 % TCP packet loss each way and 1 Mbit/s; after 6 s the namespace's veth is set down for 5 s, then up`);
    ns = createNetns('sl', 77, { delayMs: 200, lossPct: 10, rateKbit: 1024 });
    happened(ctx, `link: ${ns.shaping}`);
    const hubDir = join(dir, 'hub');
    // enrolled, and the workspaces placed in its repo, before the simulated clock starts: the hub admits the usage
    const cred = await prepareChaosHub(hubDir);
    const port = await freePort();
    const hub = await startHubProcess(hubDir, port);
    proxy = await startDelayProxy(ns.hostAddr, port, ns.netemDelay ? 0 : 200);
    const agent = track(ns.exec[0]!, [...ns.exec.slice(1), process.execPath, join(PACKAGE_ROOT, 'test', 'chaos', 'usage-agent.mjs')], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, HUB_URL: `http://${ns.hostAddr}:${proxy.port}`, NODE: 'gpu-01', CRED: cred, STATE_DIR: join(dir, 'agent'), START: new Date(START).toISOString(), SLOTS: String(SLOTS), TICK_MS: '50' },
    });
    const lines = collectLines(agent);
    const marker = (msg: string): { firstSeq: number; lastSeq: number } | undefined => lines.map((l) => JSON.parse(l) as { msg?: string; firstSeq: number; lastSeq: number }).find((l) => l.msg === msg);
    await new Promise((r) => setTimeout(r, 6_000));
    const nsIf = ns.nsIf;
    expect(spawnSync('ip', ['-n', ns.name, 'link', 'set', nsIf, 'down']).status).toBe(0);
    await new Promise((r) => setTimeout(r, 5_000));
    expect(spawnSync('ip', ['-n', ns.name, 'link', 'set', nsIf, 'up']).status).toBe(0);
    await waitFor(() => marker('drained'), 240_000, 'outbox drained over the slow link');
    const { firstSeq, lastSeq } = marker('drained')!;
    await stopProcess(agent, 'SIGTERM');
    await stopProcess(hub, 'SIGTERM');
    const store = new HubStore(join(hubDir, 'hub.db'));
    const rows = (await store.usageRecords('gpu-01'));
    await store.close();
    const dropped = ns.dropped();
    happened(ctx, `${lastSeq - firstSeq + 1} records; hub stored ${rows.length} seqs first..last, each once, every expected key once; ${dropped} packets dropped by the loss rule, ${proxy.stats.chunks} chunks delayed, ${proxy.stats.connections} connection(s)`);
    expect(rows.map((r) => r.seq)).toEqual(seqRange(firstSeq, lastSeq));
    expect(rows.map((r) => (r.payload as { key: string }).key).sort()).toEqual(expectedKeys());
    if (!ns.netemDelay) {
      expect(dropped).toBeGreaterThan(0);
      expect(proxy.stats.chunks).toBeGreaterThan(0);
    }
  }, 300_000);
});

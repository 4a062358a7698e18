/**
 * THE CHAOS TEST: a real hub process and a real agent process, with the hub SIGKILLed, the agent
 * SIGKILLed and the connection cut at random points while the agent produces usage records and status
 * transitions. Afterwards the hub's store must hold every seq the agent ever assigned, exactly once, with
 * the payload the agent produced. Duration: FOUNDRY_CHAOS_SECONDS (default 30).
 */
import { it, expect, afterAll } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { HubStore } from '../../hub/store/hub-store.js';
import { tempDir, waitFor } from '../hub/support.js';
import { freePort, track, startHubProcess, stopProcess, killAll } from '../chaos/procs.js';
import { startProxy, type CuttableProxy } from './tcp-proxy.js';
import { describeIfBuilt } from '../support/requires.js';

const SECONDS = Number(process.env.FOUNDRY_CHAOS_SECONDS ?? 30);
const describeBuilt = describeIfBuilt('dist/agent/link/hub-link.js');
const dir = tempDir('foundry-chaos-');
const hubDir = join(dir, 'hub');
const agentDir = join(dir, 'agent');
const producedLog = join(dir, 'produced.log');

/** Seeded PRNG (mulberry32) so a failing run can be replayed with FOUNDRY_CHAOS_SEED. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A chaos agent process; `ready` resolves once its signal handlers are installed. */
function startAgent(proxyPort: number, credential: string): { child: ChildProcess; ready: Promise<void> } {
  const child = track(process.execPath, [join(PACKAGE_ROOT, 'test', 'link', 'chaos-agent.mjs')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, HUB_URL: `http://127.0.0.1:${proxyPort}`, NODE: 'chaos-01', CRED: credential, STATE_DIR: agentDir, PRODUCED_LOG: producedLog },
  });
  const ready = new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
  return { child, ready };
}

function outboxState(): { pending: number; firstSeq: number; lastSeq: number } {
  const db = new Database(join(agentDir, 'outbox.db'), { readonly: true, fileMustExist: true });
  try {
    const pending = (db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;
    const last = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").get() as { seq: number } | undefined;
    const start = db.prepare('SELECT seq FROM outbox_start').pluck().get() as number;
    return { pending, firstSeq: start + 1, lastSeq: last?.seq ?? start };
  } finally {
    db.close();
  }
}

afterAll(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

describeBuilt('exactly-once delivery under chaos', () => {
  it(`loses nothing and stores nothing twice across ${SECONDS} s of kills and cuts`, async () => {
    const seed = Number(process.env.FOUNDRY_CHAOS_SEED ?? Date.now() % 100_000);
    const random = prng(seed);
    const setup = new HubStore(join(hubDir, 'hub.db'));
    const credential = await setup.issueNodeCredential('chaos-01');
    await setup.close();
    const port = await freePort();
    let hub = await startHubProcess(hubDir, port);
    const proxy: CuttableProxy = await startProxy(port);
    let agent = startAgent(proxy.port, credential);
    const counts = { hubKills: 0, agentKills: 0, cuts: 0 };

    const until = Date.now() + SECONDS * 1000;
    // The first three events are one of each kind, so even a short run covers all three.
    const firstRolls = [0.1, 0.5, 0.9];
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200 + random() * 1300));
      const roll = firstRolls.shift() ?? random();
      if (roll < 0.35) {
        proxy.cut();
        counts.cuts += 1;
      } else if (roll < 0.65) {
        await stopProcess(hub, 'SIGKILL');
        counts.hubKills += 1;
        await new Promise((r) => setTimeout(r, random() * 300));
        hub = await startHubProcess(hubDir, port);
      } else {
        await stopProcess(agent.child, 'SIGKILL');
        counts.agentKills += 1;
        agent = startAgent(proxy.port, credential);
      }
    }

    // Calm: stop producing, let the outbox drain, then stop both gracefully.
    await agent.ready;
    agent.child.kill('SIGUSR1');
    // Generous: after a burst of failed reconnects the agent's backoff may have grown toward its 2-minute cap.
    await waitFor(() => outboxState().pending === 0, 180_000, 'outbox drained').catch((err: unknown) => {
      console.log('chaos: outbox not drained', outboxState(), { agentExit: agent.child.exitCode ?? agent.child.signalCode, hubExit: hub.exitCode ?? hub.signalCode });
      throw err;
    });
    const { firstSeq, lastSeq } = outboxState();
    await stopProcess(agent.child, 'SIGTERM');
    await stopProcess(hub, 'SIGTERM');
    await proxy.close();

    const store = new HubStore(join(hubDir, 'hub.db'));
    // The chaos agent's records are not real usage (no placement in the hub's repo): the admission gate
    // refuses them, and a refused record is settled like an admitted one, exactly once, in usage_refusals.
    const usage = store.db.prepare("SELECT seq, payload FROM usage_records WHERE node = 'chaos-01' UNION ALL SELECT seq, record FROM usage_refusals WHERE node = 'chaos-01' ORDER BY seq").all() as Array<{ seq: number; payload: string }>;
    const status = store.db.prepare("SELECT seq FROM status_events WHERE node = 'chaos-01' ORDER BY seq").pluck().all() as number[];
    store.close();

    const produced = new Map(readFileSync(producedLog, 'utf8').trim().split('\n').map((l) => l.split(' ') as [string, string]).map(([s, t]) => [Number(s), t]));
    const stored = [...usage.map((u) => u.seq), ...status].sort((a, b) => a - b);
    console.log(`chaos seed ${seed}: ${lastSeq - firstSeq + 1} records and transitions, ${counts.hubKills} hub kills, ${counts.agentKills} agent kills, ${counts.cuts} cuts`);

    expect(counts.hubKills > 0 && counts.agentKills > 0 && counts.cuts > 0).toBe(true);
    expect(counts.hubKills + counts.agentKills + counts.cuts).toBeGreaterThan(SECONDS / 4);
    expect(lastSeq - firstSeq + 1).toBeGreaterThan(SECONDS * 30);
    // Nothing lost, nothing twice: every seq the agent ever assigned is stored exactly once.
    expect(stored).toEqual(Array.from({ length: lastSeq - firstSeq + 1 }, (_, i) => firstSeq + i));
    // And each with the payload the agent produced (seqs logged before a kill took the agent).
    const tokens = usage.map((u) => (JSON.parse(u.payload) as { token: string }).token);
    expect(new Set(tokens).size).toBe(tokens.length);
    const mismatched = usage.filter((u) => produced.has(u.seq) && produced.get(u.seq) !== (JSON.parse(u.payload) as { token: string }).token);
    expect(mismatched).toEqual([]);
    expect(status.every((s) => produced.get(s) === undefined || produced.get(s) === 'status')).toBe(true);
  }, (SECONDS + 240) * 1000);
});

#!/usr/bin/env node
// Simulated agents that survive a hub replica going away, for test/hub/replicas.test.ts and
// bench/hub-replicas.bench.mjs: N WebSocket clients (through a load balancer), each sending a usage record
// every USAGE_MS with its own seq (1, 2, ...) and keeping every record until the hub acks it. A closed
// connection is reopened after 100-300 ms; the reopened one says hello and resends every unacked record in
// seq order (as the agent's outbox does). Lines of JSON on stdout: {"event":"connected"} once all are up,
// {"event":"sync-now",...} per sync-now command, and the results after "stop" arrives on stdin (sending
// stops, unacked records get up to ACK_WAIT_MS to be acked).
// Env: HUB_URL, CREDS (file: JSON [{node, credential, workspace?, gpuUuid?, tenant?}]), USAGE_MS, T0 (epoch ms on a whole
// second, at least 1 s ago: usage windows are the consecutive seconds from there; USAGE_MS at least 1000), ACK_WAIT_MS, RAMP_BATCH.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

const hubUrl = process.env.HUB_URL.replace(/^http/, 'ws') + '/api/v1/agent/ws';
const creds = JSON.parse(readFileSync(process.env.CREDS, 'utf8'));
const usageMs = Number(process.env.USAGE_MS ?? 1000);
const t0 = Number(process.env.T0 ?? Date.now());
const ackWaitMs = Number(process.env.ACK_WAIT_MS ?? 30_000);
const rampBatch = Number(process.env.RAMP_BATCH ?? 200);

const now = () => performance.now();
const out = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
let idn = 0;
let sending = true;
let stopped = false;
const latencies = [];
const reconnects = [];
const stats = { agents: creds.length, usageSent: 0, usageAcked: 0, resent: 0, disconnects: 0, connectFailures: 0 };
const frame = (type, body, seq) => JSON.stringify(seq === undefined ? { v: 1, type, id: `r${++idn}`, ts: new Date().toISOString(), body } : { v: 1, type, id: `r${++idn}`, seq, ts: new Date().toISOString(), body });

function usageRecord(c, seq) {
  // consecutive one-second windows (the slot rule: whole seconds) from T0: never in the future while USAGE_MS >= 1000
  const from = t0 + (seq - 1) * 1000;
  const to = from + 1000;
  const gpu = c.gpuUuid ?? `GPU-${c.node}`;
  const workspace = c.workspace ?? `w-${c.node}`;
  return {
    kind: 'gpu-allocation', version: 1, key: `${c.node}/${workspace}/${gpu}/${from}`, node: c.node, workspace, tenant: c.tenant ?? 'bench', gpuUuid: gpu, gpuModel: 'NVIDIA H100 80GB HBM3',
    from, to, fromIso: new Date(from).toISOString(), toIso: new Date(to).toISOString(), seconds: (to - from) / 1000, measuredAvgUtilizationPct: 50, measuredSamples: 1,
  };
}

/** One agent: its outbox (seq → frame, first send time) survives its connections. */
function agent(cred) {
  const c = { ...cred, seq: 0, outbox: new Map(), ws: undefined, open: false, everOpen: false, closedAt: undefined };
  const connect = () => {
    const ws = new WebSocket(hubUrl, { headers: { authorization: `Bearer ${c.credential}` }, perMessageDeflate: false });
    c.ws = ws;
    ws.on('open', () => {
      c.open = true;
      if (c.closedAt !== undefined) reconnects.push(now() - c.closedAt);
      c.closedAt = undefined;
      ws.send(frame('hello', { node: c.node, agentVersion: 'sim', appliedRevision: null, inventory: { gpus: [{ uuid: c.gpuUuid ?? `GPU-${c.node}` }], resources: [] } }));
      if (c.everOpen) {
        for (const [, e] of [...c.outbox].sort(([a], [b]) => a - b)) {
          ws.send(e.text);
          stats.resent += 1;
        }
      }
      c.everOpen = true;
      c.ready?.();
    });
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      if (msg.type === 'ack') {
        const t = now();
        for (const s of msg.body.seqs) {
          const e = c.outbox.get(s);
          if (e === undefined) continue;
          c.outbox.delete(s);
          latencies.push(t - e.sentAt);
          stats.usageAcked += 1;
        }
      } else if (msg.type === 'command' && msg.body?.name === 'sync-now') out({ event: 'sync-now', node: c.node, revision: msg.body.revision });
    });
    ws.on('unexpected-response', () => (stats.connectFailures += 1));
    ws.on('error', () => undefined);
    ws.on('close', () => {
      if (c.open) stats.disconnects += 1;
      c.open = false;
      c.closedAt ??= now();
      if (!stopped) setTimeout(connect, 100 + Math.random() * 200);
    });
  };
  c.start = () => new Promise((resolve) => {
    c.ready = resolve;
    connect();
  });
  c.tick = () => {
    if (!sending) return;
    c.seq += 1;
    const text = frame('usage', { node: c.node, record: usageRecord(c, c.seq) }, c.seq);
    c.outbox.set(c.seq, { text, sentAt: now() });
    stats.usageSent += 1;
    if (c.open) c.ws.send(text);
  };
  return c;
}

const agents = creds.map(agent);
const started = now();
for (let i = 0; i < agents.length; i += rampBatch) await Promise.all(agents.slice(i, i + rampBatch).map((a) => a.start()));
const rampMs = now() - started;
out({ event: 'connected', rampMs: Math.round(rampMs) });
// staggered: each agent's interval starts at a random offset
const timers = agents.map((a) => setTimeout(() => { a.tick(); a.timer = setInterval(a.tick, usageMs); }, Math.random() * usageMs));

await new Promise((resolve) => createInterface({ input: process.stdin }).on('line', (l) => l.trim() === 'stop' && resolve()));
sending = false;
timers.forEach(clearTimeout);
agents.forEach((a) => clearInterval(a.timer));
const until = now() + ackWaitMs;
while (now() < until && agents.some((a) => a.outbox.size > 0 || !a.open)) await new Promise((r) => setTimeout(r, 50));
stopped = true;
latencies.sort((a, b) => a - b);
reconnects.sort((a, b) => a - b);
const pct = (xs, p) => (xs.length === 0 ? null : xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]);
out({
  event: 'done',
  ...stats,
  connected: agents.filter((a) => a.open).length,
  unacked: agents.reduce((n, a) => n + a.outbox.size, 0),
  sent: Object.fromEntries(agents.map((a) => [a.node, a.seq])),
  rampMs: Math.round(rampMs),
  p50: pct(latencies, 50),
  p99: pct(latencies, 99),
  reconnects: reconnects.length,
  reconnectP99: pct(reconnects, 99),
  reconnectMax: reconnects.at(-1) ?? null,
});
agents.forEach((a) => a.ws?.terminate());
process.exit(0);

#!/usr/bin/env node
// Simulated agents for bench/hub.bench.mjs, in a process of their own: N WebSocket clients, each sending
// hello, telemetry every TELEMETRY_MS and a usage record every USAGE_MS (staggered at random), measuring
// the time from sending a usage frame to its ack. Prints one JSON line of results on stdout.
// Env: HUB_URL, CREDS (file: JSON [{node, credential}]), DURATION_MS, TELEMETRY_MS, USAGE_MS, RAMP_BATCH.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

const hubUrl = process.env.HUB_URL.replace(/^http/, 'ws') + '/api/v1/agent/ws';
const creds = JSON.parse(readFileSync(process.env.CREDS, 'utf8'));
const durationMs = Number(process.env.DURATION_MS ?? 30_000);
const telemetryMs = Number(process.env.TELEMETRY_MS ?? 5000);
const usageMs = Number(process.env.USAGE_MS ?? 10_000);
const rampBatch = Number(process.env.RAMP_BATCH ?? 250);

const stats = { agents: creds.length, connected: 0, connectFailures: 0, disconnects: 0, usageSent: 0, usageAcked: 0, telemetrySent: 0, errors: 0 };
const latencies = [];
const clients = [];
let stopping = false;
const now = () => performance.now();
const iso = () => new Date().toISOString();
let idn = 0;
const frame = (type, body, seq) => JSON.stringify(seq === undefined ? { v: 1, type, id: `s${++idn}`, ts: iso(), body } : { v: 1, type, id: `s${++idn}`, seq, ts: iso(), body });

function startAgent({ node, credential }) {
  return new Promise((resolve) => {
    const ws = new WebSocket(hubUrl, { headers: { authorization: `Bearer ${credential}` }, perMessageDeflate: false });
    const c = { ws, node, seq: 0, pending: new Map(), timers: [] };
    ws.on('open', () => {
      stats.connected += 1;
      ws.send(frame('hello', { node, agentVersion: 'sim', appliedRevision: null, inventory: { gpus: [{ uuid: `GPU-${node}` }], resources: [] } }));
      const tele = () => {
        if (stopping || ws.readyState !== 1) return;
        ws.send(frame('telemetry', { node, at: Date.now(), gpus: [{ uuid: `GPU-${node}`, utilizationGpuPct: 50, memoryUsedMiB: 1000, memoryTotalMiB: 80000 }], host: { cpuPct: 12, memUsedBytes: 1e9, memTotalBytes: 8e9 } }));
        stats.telemetrySent += 1;
      };
      const usage = () => {
        if (stopping || ws.readyState !== 1) return;
        c.seq += 1;
        c.pending.set(c.seq, now());
        // a GPU record of the workspace bench/hub.bench.mjs placed on this node, ending at the last whole second
        const to = Math.floor(Date.now() / 1000) * 1000;
        const from = to - Math.ceil(usageMs / 1000) * 1000;
        const record = {
          kind: 'gpu-allocation', version: 1, key: `${node}/w-${node}/GPU-${node}/${from}`, node, workspace: `w-${node}`, tenant: 'bench', gpuUuid: `GPU-${node}`, gpuModel: 'NVIDIA H100 80GB HBM3',
          from, to, fromIso: new Date(from).toISOString(), toIso: new Date(to).toISOString(), seconds: (to - from) / 1000, measuredAvgUtilizationPct: 50, measuredSamples: 1,
        };
        ws.send(frame('usage', { node, record }, c.seq));
        stats.usageSent += 1;
      };
      // Stagger: each agent starts its intervals at a random offset so load is spread evenly.
      c.timers.push(setTimeout(() => { tele(); c.timers.push(setInterval(tele, telemetryMs)); }, Math.random() * telemetryMs));
      c.timers.push(setTimeout(() => { usage(); c.timers.push(setInterval(usage, usageMs)); }, Math.random() * usageMs));
      resolve(c);
    });
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      if (msg.type === 'ack') {
        const t = now();
        for (const s of msg.body.seqs) {
          const sent = c.pending.get(s);
          if (sent === undefined) continue;
          c.pending.delete(s);
          latencies.push(t - sent);
          stats.usageAcked += 1;
        }
      } else if (msg.type === 'error') stats.errors += 1;
    });
    ws.on('unexpected-response', () => { stats.connectFailures += 1; resolve(c); });
    ws.on('error', () => undefined);
    ws.on('close', () => { if (!stopping) stats.disconnects += 1; });
  });
}

const t0 = now();
const cpu0 = process.cpuUsage();
for (let i = 0; i < creds.length; i += rampBatch) clients.push(...(await Promise.all(creds.slice(i, i + rampBatch).map(startAgent))));
const rampMs = now() - t0;
await new Promise((r) => setTimeout(r, durationMs));
stopping = true;
clients.forEach((c) => c.timers.forEach((t) => clearTimeout(t))); // clearTimeout also clears intervals in Node
// Give outstanding acks time to arrive before counting anything as lost.
const until = now() + 15_000;
while (now() < until && clients.some((c) => c.pending.size > 0)) await new Promise((r) => setTimeout(r, 100));
latencies.sort((a, b) => a - b);
const pct = (p) => (latencies.length === 0 ? null : latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]);
const unacked = clients.reduce((n, c) => n + c.pending.size, 0);
clients.forEach((c) => c.ws.terminate());
const cpu = process.cpuUsage(cpu0);
const simCpuPct = (100 * (cpu.user + cpu.system)) / 1000 / (now() - t0);
process.stdout.write(`${JSON.stringify({ ...stats, unacked, rampMs: Math.round(rampMs), p50: pct(50), p99: pct(99), max: latencies.at(-1) ?? null, simCpuPct })}\n`);
process.exit(0);

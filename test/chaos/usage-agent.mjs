#!/usr/bin/env node
// A node agent for the chaos scenarios, as a real process: the HubLink (durable outbox) and the
// UsageEmitter from dist/, fed a deterministic fleet on a simulated clock. One slot of simulated time
// (10 s) passes every TICK_MS of real time, so hours of usage run in a minute; the records depend only
// on the slot number, never on the hub, so two runs must bill the same. Prints "emitted <lastSeq>" when
// all SLOTS slots are in the outbox ("slots-done" when the clock has run out), "drained" once the hub has acked everything, and JSON log lines
// for what the link and the emitter report.
import { HubLink } from '../../dist/agent/link/hub-link.js';
import { UsageEmitter } from '../../dist/agent/usage/usage-emitter.js';

const { HUB_URL, NODE, CRED, STATE_DIR } = process.env;
const SLOTS = Number(process.env.SLOTS ?? 100);
const TICK_MS = Number(process.env.TICK_MS ?? 20);
const START = Date.parse(process.env.START ?? '2026-11-30T21:00:00Z');
const RES = 10_000;
const H100 = 'NVIDIA H100 80GB HBM3';
const A100 = 'NVIDIA A100-SXM4-80GB';

const say = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const log = { debug() {}, info() {}, warn: (o, msg) => say({ level: 'warn', msg, ...o }), error: (o, msg) => say({ level: 'error', msg, ...o }) };
const link = new HubLink({ hubUrl: HUB_URL, node: NODE, credential: CRED, stateDir: STATE_DIR, log }).start();

/** What runs in slot i: a deterministic mix of starts, stops and GPU counts. */
function fleet(i) {
  return [
    { workspace: 'alice', tenant: 'acme', gpus: [{ uuid: 'GPU-0', model: H100 }, { uuid: 'GPU-1', model: H100 }], running: i % 360 < 300 },
    { workspace: 'carol', tenant: 'acme', gpus: [{ uuid: 'GPU-2', model: H100 }], running: i >= 500 && i < 1500 },
    { workspace: 'bob', tenant: 'globex', gpus: [{ uuid: 'GPU-3', model: A100 }], running: i % 50 !== 7 },
  ];
}

let now = START;
let sinkErrors = 0;
const emitter = new UsageEmitter({
  node: NODE,
  clock: () => now,
  resolutionMs: RES,
  sink: (record) => void link.enqueueUsage(record),
  // As the node agent's composition root (agent/node-agent.ts) does: log it, keep the record for the next tick.
  onSinkError: (err) => {
    sinkErrors += 1;
    if (sinkErrors === 1 || sinkErrors % 50 === 0) say({ level: 'error', event: 'usage-sink-failed', reason: String(err), code: err?.code, sinkErrors, backlog: emitter.backlog });
  },
});

for (let i = 0; i < SLOTS; i++) {
  now = START + i * RES;
  emitter.observe(fleet(i));
  now = START + (i + 1) * RES;
  await emitter.tick();
  await new Promise((r) => setTimeout(r, TICK_MS));
}
say({ msg: 'slots-done', backlog: emitter.backlog, firstSeq: link.firstSeq(), lastSeq: link.lastSeq() });
while (emitter.backlog > 0) {
  await emitter.tick();
  await new Promise((r) => setTimeout(r, 200));
}
say({ msg: 'emitted', firstSeq: link.firstSeq(), lastSeq: link.lastSeq() });
while (link.pending() > 0) await new Promise((r) => setTimeout(r, 50));
say({ msg: 'drained', firstSeq: link.firstSeq(), lastSeq: link.lastSeq() });
process.on('SIGTERM', () => void link.close().then(() => process.exit(0)));

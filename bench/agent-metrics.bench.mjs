#!/usr/bin/env node
// Cost of the agent's metrics (issue 24): the same steady-state reconcile pass (a node with many containers,
// nothing to change) with the metrics off and on, side by side and interleaved in one run, plus the time of
// one scrape of the agent's registry. In-process, a plain-folder repo and an in-memory driver, so what is
// timed is the agent's own work (fetch, load, render, observe, plan, apply, status), not a runtime's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { writeInfraRepo } from './infra-repo.mjs';
import { median } from './stats.mjs';

const NODE = 'bench-01';

/** A runtime in memory: what was applied is what is listed (as the tests' FakeDriver). */
class MemoryDriver {
  name = 'memory';
  kinds = ['network', 'volume', 'container'];
  objects = new Map();
  seq = 0;
  async probe() { return { available: true, message: 'memory' }; }
  async list(node) { return [...this.objects.values()].filter((o) => o.owner.node === node).map((o) => ({ ...o, facts: { ...o.facts } })); }
  async apply(a) {
    if ((a.type === 'remove' || a.type === 'recreate') && a.observed !== undefined) this.objects.delete(a.observed.runtimeId);
    const d = a.desired;
    if ((a.type === 'create' || a.type === 'recreate') && d !== undefined) {
      const runtimeId = `m-${++this.seq}`;
      const state = d.kind === 'container' ? (d.run ? 'running' : 'created') : 'created';
      this.objects.set(runtimeId, { kind: d.kind, ref: d.ref, id: d.id, name: d.name, runtimeId, owner: d.owner, specHash: d.specHash, state, reclaimPolicy: d.reclaimPolicy, facts: d.kind === 'container' ? { image: d.spec.image } : {} });
    }
  }
}

/** Runs the benchmark; quick: 20 workspaces and 5 passes each (CI). */
export async function run({ quick = false } = {}) {
  const { Reconciler } = await import('../dist/agent/reconcile/reconciler.js');
  const { DirSource } = await import('../dist/agent/source/dir-source.js');
  const { PromAgentMetrics } = await import('../dist/agent/metrics/prom-metrics.js');
  const { pino } = await import('pino');
  const workspaces = quick ? 20 : 100;
  const runs = quick ? 5 : 30;
  const dir = mkdtempSync(join(tmpdir(), 'foundry-bench-metrics-'));
  try {
    const repo = join(dir, 'repo');
    const template = { containers: ['a', 'b', 'c', 'd'].map((name) => ({ name, image: 'localhost/bench:1', pullPolicy: 'Never', command: ['sleep', '600'] })) };
    writeInfraRepo(repo, { node: NODE, template, workspaces: Array.from({ length: workspaces }, (_, i) => `ws-${i}`) });
    const metrics = new PromAgentMetrics({ version: 'bench' });
    const make = (name, withMetrics) => new Reconciler({
      node: NODE, source: new DirSource(repo), drivers: [new MemoryDriver()], stateDir: join(dir, name), verify: undefined,
      logger: pino({ level: 'silent' }), backoff: { baseDelayMs: 1000, maxDelayMs: 10_000 }, ...(withMetrics ? { metrics } : {}),
    });
    const off = make('off', false);
    const on = make('on', true);
    for (const r of [off, on]) {
      const first = await r.trigger('bench');
      if (!first.converged) throw new Error(`the bench node did not converge: ${first.status.conditions.map((c) => c.message).join('; ')}`);
    }
    const timesOff = [];
    const timesOn = [];
    const scrapes = [];
    for (let i = 0; i < runs + 1; i++) {
      // alternate which goes first, so neither always runs on a warmer cache
      const pair = i % 2 === 0 ? [[off, timesOff], [on, timesOn]] : [[on, timesOn], [off, timesOff]];
      for (const [r, into] of pair) {
        const t = performance.now();
        await r.trigger('bench');
        if (i > 0) into.push(performance.now() - t); // the first pass of each warms the JIT
      }
      const t = performance.now();
      await metrics.registry.metrics();
      if (i > 0) scrapes.push(performance.now() - t);
    }
    const mOff = median(timesOff);
    const mOn = median(timesOn);
    const containers = workspaces * 4;
    return {
      title: 'agent metrics: reconcile cost, on vs off',
      rows: [
        { figure: `steady reconcile pass, ${containers} containers + ${workspaces} networks unchanged: metrics off`, median: mOff, unit: 'ms', runs },
        { figure: `steady reconcile pass, ${containers} containers + ${workspaces} networks unchanged: metrics on`, median: mOn, unit: 'ms', runs, target: 'within 5% of off', met: quick ? undefined : mOn <= mOff * 1.05, peer: 'metrics off', peerMedian: mOff, ratio: `${(mOn / mOff).toFixed(3)}×` },
        { figure: 'one scrape of the agent registry (GET /metrics body)', median: median(scrapes), unit: 'ms', runs },
      ],
      notes: ['in-process, plain-folder repo and an in-memory driver: the figures are the agent\'s own work per pass; a real pass adds the runtime\'s list calls (bench/podman.bench.mjs)'],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { table } = await import('./run.mjs');
  const res = await run({ quick: process.argv.includes('--quick') });
  console.log(table([res]));
  for (const n of res.notes) console.log(`- ${n}`);
}

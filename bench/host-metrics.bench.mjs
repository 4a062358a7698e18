// Host metrics: how long one systeminformation sample takes, and how much it delays the event loop
// while it runs (it should not block: probes read /proc asynchronously and spawn `df`).
// `node bench/host-metrics.bench.mjs [--quick]`.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Runs the benchmark; `quick` for CI. */
export async function run({ quick = false } = {}) {
  const { collectHostMetrics } = await import('../dist/agent/host/host-metrics.js');
  const runs = quick ? 3 : 15;
  const wall = [];
  const p99 = [];
  const max = [];
  await collectHostMetrics(); // warm-up: systeminformation caches static facts on first use
  for (let i = 0; i < runs; i++) {
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const t0 = performance.now();
    await collectHostMetrics();
    wall.push(performance.now() - t0);
    h.disable();
    p99.push(h.percentile(99) / 1e6);
    max.push(h.max / 1e6);
  }
  return {
    title: 'host metrics (systeminformation)',
    rows: [
      { figure: 'one sample, wall time', median: median(wall), unit: 'ms', runs },
      { figure: 'event-loop delay during a sample, p99', median: median(p99), unit: 'ms', runs, target: '< 20 ms', met: median(p99) < 20 },
      { figure: 'event-loop delay during a sample, max', median: median(max), unit: 'ms', runs },
    ],
    notes: ['event-loop delay measured with perf_hooks.monitorEventLoopDelay (1 ms resolution) around each collectHostMetrics() call.'],
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { table } = await import('./run.mjs');
  const res = await run({ quick: process.argv.includes('--quick') });
  console.log(table([res]));
}

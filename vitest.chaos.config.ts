/**
 * `npm run chaos`: the reliability scenarios (test/chaos/** plus the chaos, kill -9 and fuzz tests that
 * live next to their areas), run one file at a time, then written up as docs/reliability.md by the
 * reliability reporter. Not part of `npm test`: it needs root (network namespaces, tmpfs) and ~10 minutes.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/chaos/**/*.test.ts',
      // Reused from their areas (not twins): exactly-once under kills and cuts, WS fuzz, kill -9 mid-reconcile.
      'test/link/exactly-once-chaos.test.ts',
      'test/hub/fuzz.test.ts',
      'test/podman/agent-crash.test.ts',
    ],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    // The scenarios restart shared daemons and time things out on purpose: one file at a time.
    fileParallelism: false,
    maxWorkers: 1,
    env: { FOUNDRY_CHAOS_SECONDS: process.env.FOUNDRY_CHAOS_SECONDS ?? '60', FOUNDRY_CRASH_ROUNDS: process.env.FOUNDRY_CRASH_ROUNDS ?? '12' },
    reporters: ['default', './test/chaos/reliability-reporter.ts'],
  },
});

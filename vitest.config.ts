import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['agent/**/*.test.ts', 'hub/**/*.test.ts', 'common/**/*.test.ts', 'cli/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['test/chaos/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests share real daemons (Podman, libvirt); keep files from stepping on each other.
    fileParallelism: true,
    maxWorkers: 2,
  },
});

/**
 * Gates for tests that need a real external component (Podman, libvirt, Chromium...). In CI (CI=true)
 * a missing component fails the test run: such tests must run there. Elsewhere they are skipped with a
 * message that says how to enable them.
 */
import { describe, it } from 'vitest';
import { spawnSync } from 'node:child_process';

/** True when `cmd args...` exits 0 within 10 s. */
export function commandWorks(cmd: string, args: string[] = ['--version']): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
  return r.status === 0;
}

/**
 * `describe` when `available`, otherwise: in CI, a describe whose first test fails with `how`;
 * outside CI, a skipped describe with a printed hint.
 */
export function describeIf(available: boolean, component: string, how: string): typeof describe | ((name: string, fn: () => void) => void) {
  if (available) return describe;
  if (process.env.CI === 'true') {
    return (name: string) => {
      describe(name, () => {
        // A test, not a throw at collection time, so the report names what is missing.
        it(`needs ${component}`, () => {
          throw new Error(`${component} is required in CI but not available: ${how}`);
        });
      });
    };
  }
  console.warn(`skipping tests that need ${component}: ${how}`);
  return describe.skip;
}

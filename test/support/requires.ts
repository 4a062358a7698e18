/**
 * Gates for tests that need a real external component (Podman, libvirt, Chromium...). In CI (CI=true)
 * a missing component fails the test run: such tests must run there. Elsewhere they are skipped with a
 * message that says how to enable them.
 */
import { describe, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * describeIf for tests that run the compiled program (dist/): each path, relative to the package root,
 * must exist. `npm test` builds first; in CI a missing build fails instead of skipping silently.
 */
export function describeIfBuilt(...paths: string[]): ReturnType<typeof describeIf> {
  const missing = paths.filter((p) => !existsSync(join(PACKAGE_ROOT, p)));
  return describeIf(missing.length === 0, `a build (${missing.join(', ') || paths.join(', ')})`, 'run npm run build first (npm test does)');
}

/** True when every command is found on PATH (a lookup, no spawn). */
export function onPath(...cmds: string[]): boolean {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  return cmds.every((cmd) =>
    dirs.some((dir) => {
      try {
        accessSync(join(dir, cmd), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    }),
  );
}

/** Puts scripts/fake-nvidia-smi on a private PATH as `nvidia-smi` (test helper). */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../common/paths.js';

/** A temp dir with `nvidia-smi` → the stand-in, a scenario file and a pid file. */
export interface FakeSmi {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** Switches the scenario for the next call. */
  scenario(name: string): void;
  /** Pids of every stand-in process started so far (helpers of a hang included). */
  pids(): number[];
  cleanup(): void;
}

/** Creates the stand-in environment, starting with `scenario`. */
export function fakeSmi(scenario: string): FakeSmi {
  const dir = mkdtempSync(join(tmpdir(), 'fc-fake-smi-'));
  symlinkSync(join(PACKAGE_ROOT, 'scripts', 'fake-nvidia-smi'), join(dir, 'nvidia-smi'));
  const scenarioFile = join(dir, 'scenario');
  const pidFile = join(dir, 'pids');
  writeFileSync(scenarioFile, scenario);
  return {
    dir,
    env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}`, FAKE_NVIDIA_SMI_SCENARIO_FILE: scenarioFile, FAKE_NVIDIA_SMI_PIDFILE: pidFile },
    scenario: (name) => writeFileSync(scenarioFile, name),
    pids: () => (existsSync(pidFile) ? readFileSync(pidFile, 'utf8').split('\n').filter(Boolean).map(Number) : []),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** True while a process with this pid exists (zombies count as gone: they hold no resources). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Waits until `cond()` holds, polling every 20 ms, up to `ms` (then returns false). */
export async function waitFor(cond: () => boolean, ms = 5_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

/**
 * Processes for the chaos scenarios: the hub as `foundry hub start` (restartable on the same port and
 * data dir), agent scripts from dist/, free ports, and a registry so afterAll can kill what is left.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../common/paths.js';
export { freePort } from '../support/free-port.js';

const children = new Set<ChildProcess>();

/** Spawns a process and tracks it for killAll(). */
export function track(cmd: string, args: string[], options: SpawnOptions): ChildProcess {
  const child = spawn(cmd, args, options);
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** Starts `foundry hub start` and resolves once it listens (retrying while the port is still held). */
export async function startHubProcess(dataDir: string, port: number, host = '127.0.0.1'): Promise<ChildProcess> {
  for (let attempt = 0; ; attempt++) {
    const child = track(process.execPath, [join(PACKAGE_ROOT, 'bin', 'foundry.js'), 'hub', 'start', '--data-dir', dataDir, '--port', String(port), '--host', host, '--log-level', 'fatal'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const ok = await new Promise<boolean>((resolve) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('listening on')) resolve(true);
      });
      child.on('exit', () => resolve(false));
    });
    if (ok) return child;
    if (attempt > 50) throw new Error(`hub did not start on ${host}:${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sends `signal` and waits for the exit (resolves at once when already gone). */
export function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** SIGKILLs every tracked process still running. */
export async function killAll(): Promise<void> {
  await Promise.all([...children].map((c) => stopProcess(c, 'SIGKILL')));
}

/** Lines a child writes to stdout, collected (for "done" markers and logs). */
export function collectLines(child: ChildProcess): string[] {
  const lines: string[] = [];
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
  });
  return lines;
}

/** The seqs first..last, one by one: what an outbox assigned (it starts at its creation time, not at 1). */
export function seqRange(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

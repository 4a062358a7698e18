/**
 * The one module the VM drivers spawn processes through (virsh, qemu-img, genisoimage): argv arrays,
 * never a shell string; a timeout that kills the child; output captured for the parsers.
 */
import { spawn } from 'node:child_process';

/** How one command ended. */
export interface CommandResult {
  stdout: string;
  stderr: string;
  /** Exit code; null when killed (timeout or signal). */
  code: number | null;
  timedOut: boolean;
}

/** Options of one run. */
export interface RunOptions {
  /** Kill the child after this long (default 60 s). */
  timeoutMs?: number;
  /** Written to the child's stdin, then closed. */
  input?: string;
}

/** Runs `command args...`; resolves with the outcome, rejects only when the command cannot start. The seam tests replace. */
export type CommandRunner = (command: string, args: readonly string[], options?: RunOptions) => Promise<CommandResult>;

/** The real runner: spawns without a shell and collects stdout/stderr as UTF-8. */
export const runCommand: CommandRunner = (command, args, options = {}) =>
  new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 60_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), code, timedOut });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });

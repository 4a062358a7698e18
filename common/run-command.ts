/**
 * The one module that runs a command to completion and collects its output, on both sides (the VM
 * drivers' virsh, qemu-img and genisoimage; ceph df; git, through git-run.ts): argv
 * arrays, never a shell string; a timeout that kills the child; output captured for the parsers.
 * (Long-running children — nvidia-smi's process group, `foundry dev`'s hub and agent — have their own
 * supervisors: agent/gpu/smi-runner.ts, cli/dev.ts.)
 */
import { spawn } from 'node:child_process';

/** How one command ended. */
export interface CommandResult {
  stdout: string;
  /** stdout as bytes (for binary output such as `git cat-file --batch`); runCommand always sets it, test runners may not. */
  stdoutBytes?: Buffer;
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
  /** The child's whole environment (default: this process's, with LC_ALL=C so output parses the same everywhere). */
  env?: NodeJS.ProcessEnv;
  /** Working directory. */
  cwd?: string;
}

/** Runs `command args...`; resolves with the outcome, rejects only when the command cannot start. The seam tests replace. */
export type CommandRunner = (command: string, args: readonly string[], options?: RunOptions) => Promise<CommandResult>;

/** The real runner: spawns without a shell and collects stdout/stderr as UTF-8. */
export const runCommand: CommandRunner = (command, args, options = {}) =>
  new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { stdio: ['pipe', 'pipe', 'pipe'], cwd: options.cwd, env: options.env ?? { ...process.env, LC_ALL: 'C' } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
      // A grandchild may still hold the pipes (git's git-remote-https): stop reading, so 'close' comes with the exit.
      child.stdout.destroy();
      child.stderr.destroy();
    }, options.timeoutMs ?? 60_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({ stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr: Buffer.concat(err).toString('utf8'), code, timedOut });
    });
    // The child may exit before reading stdin (most commands never do): an EPIPE there is not an error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });

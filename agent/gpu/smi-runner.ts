/**
 * The one place that spawns nvidia-smi: argv only (never a shell), a timeout that SIGKILLs the whole
 * process group, and at most one process alive at a time. A hung nvidia-smi (stuck driver) can outlive
 * even SIGKILL in uninterruptible sleep, so later calls fail fast until it is really gone: processes
 * never pile up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { FoundryError } from '../../common/errors.js';

/** What one nvidia-smi run printed and how it ended. */
export interface SmiRunResult {
  stdout: string;
  stderr: string;
  /** Exit code; null when killed by a signal. */
  code: number | null;
}

/** Runs nvidia-smi with the given argv (the seam tests and the CLI replace). */
export type SmiExec = (args: string[]) => Promise<SmiRunResult>;

/** Options of the runner. */
export interface SmiRunnerOptions {
  /** Executable name or path (default "nvidia-smi", looked up on PATH). */
  command?: string;
  /** Per-run timeout (default 5 s). */
  timeoutMs?: number;
  /** Environment for the child (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Output above this is treated as garbage (default 16 MiB). */
  maxOutputBytes?: number;
}

/** Reason attached (in details.reason) when nvidia-smi itself is absent. */
export const NOT_FOUND = 'not-found';

/** Spawns nvidia-smi runs one at a time. */
export class SmiRunner {
  readonly command: string;
  private readonly timeoutMs: number;
  private readonly env: NodeJS.ProcessEnv | undefined;
  private readonly maxOutputBytes: number;
  private alive: ChildProcess | undefined;
  /** Set once the alive child was SIGKILLed; resolves when it has really exited. */
  private reaped: Promise<void> | undefined;

  constructor(opts: SmiRunnerOptions = {}) {
    this.command = opts.command ?? 'nvidia-smi';
    this.timeoutMs = opts.timeoutMs ?? 5_000;
    this.env = opts.env;
    this.maxOutputBytes = opts.maxOutputBytes ?? 16 * 1024 * 1024;
  }

  /** PID of the nvidia-smi still alive (running, or killed but not yet exited); undefined when none. */
  get alivePid(): number | undefined {
    return this.alive?.pid;
  }

  /** Runs `command ...args`; rejects with NVIDIA_SMI (absent, busy, failed to start) or NVIDIA_SMI_TIMEOUT. */
  readonly run: SmiExec = async (args) => {
    // A child killed on timeout normally exits within milliseconds: give it a short grace to be reaped.
    if (this.alive !== undefined && this.reaped !== undefined) {
      await Promise.race([this.reaped, new Promise((r) => setTimeout(r, 1_000).unref())]);
    }
    return this.spawnOne(args);
  };

  private spawnOne(args: string[]): Promise<SmiRunResult> {
    const resource = `${this.command} ${(args[0] ?? '').split('=')[0]}`.trim();
    if (this.alive !== undefined) {
      return Promise.reject(new FoundryError('NVIDIA_SMI', `previous nvidia-smi (pid ${this.alive.pid}) has not exited yet`, { resource, details: { reason: 'busy', pid: this.alive.pid } }));
    }
    return new Promise<SmiRunResult>((resolve, reject) => {
      // detached: its own process group, so a timeout kills helpers it may have started as well.
      const child = spawn(this.command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: this.env ?? process.env });
      this.alive = child;
      this.reaped = undefined;
      let markReaped: () => void = () => undefined;
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let size = 0;
      let settled = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const killGroup = (): void => {
        if (child.pid === undefined) return;
        this.reaped ??= new Promise<void>((r) => { markReaped = r; });
        try { process.kill(-child.pid, 'SIGKILL'); } catch { try { child.kill('SIGKILL'); } catch { /* already gone */ } }
      };
      const timer = setTimeout(() => {
        killGroup();
        settle(() => reject(new FoundryError('NVIDIA_SMI_TIMEOUT', `nvidia-smi did not answer within ${this.timeoutMs} ms and was killed`, { resource, details: { pid: child.pid, timeoutMs: this.timeoutMs } })));
      }, this.timeoutMs);
      const collect = (into: Buffer[]) => (chunk: Buffer): void => {
        size += chunk.length;
        if (size > this.maxOutputBytes) {
          killGroup();
          settle(() => reject(new FoundryError('NVIDIA_SMI_PARSE', `nvidia-smi printed more than ${this.maxOutputBytes} bytes`, { resource })));
          return;
        }
        into.push(chunk);
      };
      child.stdout.on('data', collect(out));
      child.stderr.on('data', collect(err));
      const gone = (): void => {
        if (this.alive === child) { this.alive = undefined; this.reaped = undefined; }
        markReaped();
      };
      child.on('error', (e: NodeJS.ErrnoException) => {
        gone();
        const absent = e.code === 'ENOENT' || e.code === 'EACCES';
        settle(() => reject(new FoundryError('NVIDIA_SMI', absent ? `${this.command} not found or not executable` : `cannot start nvidia-smi: ${e.message}`, { resource, cause: e, details: { reason: absent ? NOT_FOUND : 'spawn' } })));
      });
      child.on('close', (code) => {
        gone();
        settle(() => resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), code }));
      });
    });
  }
}

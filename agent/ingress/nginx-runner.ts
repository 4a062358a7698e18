/**
 * Runs one ingress's nginx: writes the generated configuration next to the running one, lets `nginx -t`
 * judge it, and only then puts it in place and reloads gracefully (SIGHUP: the master starts new workers
 * and lets the old ones finish their open connections). A configuration nginx refuses never replaces a
 * good one. nginx runs as its own daemon (pid file in the folder), so neither an agent nor a hub restart
 * touches open connections; a restarted agent adopts the running master through its pid file.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chown, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand, type CommandRunner } from '../drivers/libvirt/process-runner.js';

/** Outcome of one apply. */
export type ApplyResult = { status: 'unchanged' | 'started' | 'reloaded' } | { status: 'refused'; message: string };

/** Options of the runner. */
export interface NginxRunnerOptions {
  /** Folder of this ingress (nginx.conf, pid, logs, temp, cache). */
  dir: string;
  /** nginx binary (default nginx on PATH). */
  nginx?: string;
  run?: CommandRunner;
}

const SUBDIRS = ['tmp/body', 'tmp/proxy', 'tmp/fastcgi', 'tmp/uwsgi', 'tmp/scgi', 'authz-cache'];
/** nobody:nogroup on Debian: the workers' user when the agent runs as root. */
const WORKER_UID = 65534;
/** Where root's ingresses keep what workers write: the state dir may not be reachable for nobody (mode 0700 above it). */
const ROOT_WORK_BASE = '/run/foundry-ingress';

/** The folder workers write to for an ingress folder: under /run when we are root (reachable by nobody), inside it otherwise. */
export function workDirFor(dir: string): string {
  if (process.getuid?.() !== 0) return join(dir, 'work');
  return join(ROOT_WORK_BASE, createHash('sha256').update(dir).digest('hex').slice(0, 16));
}

/** One nginx instance under the agent's state dir. */
export class NginxRunner {
  private readonly nginx: string;
  private readonly run: CommandRunner;

  constructor(private readonly opts: NginxRunnerOptions) {
    this.nginx = opts.nginx ?? 'nginx';
    this.run = opts.run ?? runCommand;
  }

  /** Path of the configuration nginx runs with. */
  get configPath(): string {
    return join(this.opts.dir, 'nginx.conf');
  }

  /** Checks `text` with nginx -t, then puts it in place and starts or reloads nginx. */
  async apply(text: string): Promise<ApplyResult> {
    const { dir } = this.opts;
    await this.prepareDirs();
    const current = await readFile(this.configPath, 'utf8').catch(() => undefined);
    const pid = await this.pid();
    if (current === text && pid !== undefined) return { status: 'unchanged' };
    const next = join(dir, 'nginx.conf.next');
    await writeFile(next, text, { mode: 0o644 });
    const test = await this.run(this.nginx, ['-t', '-q', '-p', dir, '-c', next], { timeoutMs: 30_000 });
    if (test.code !== 0) {
      await rm(next, { force: true });
      return { status: 'refused', message: `nginx -t refused the generated configuration: ${(test.stderr || test.stdout).trim().split('\n').slice(-3).join(' | ')}` };
    }
    await rename(next, this.configPath);
    if (pid !== undefined) {
      process.kill(pid, 'SIGHUP');
      return { status: 'reloaded' };
    }
    await this.start();
    return { status: 'started' };
  }

  /** The master's pid while it runs (from its pid file, checked to be alive and nginx), else undefined. */
  async pid(): Promise<number | undefined> {
    const text = await readFile(join(this.opts.dir, 'nginx.pid'), 'utf8').catch(() => '');
    const pid = Number.parseInt(text.trim(), 10);
    if (!Number.isInteger(pid) || pid <= 1) return undefined;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    return cmdline.startsWith('nginx: master') || cmdline.includes(this.nginx) ? pid : undefined;
  }

  /** Graceful stop (SIGQUIT: open connections finish); resolves when the master is gone or after `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<void> {
    const pid = await this.pid();
    if (pid === undefined) return;
    process.kill(pid, 'SIGQUIT');
    const until = Date.now() + timeoutMs;
    while (Date.now() < until && (await this.pid()) !== undefined) await new Promise((r) => setTimeout(r, 50));
  }

  /** Starts the master as a daemon of its own (it outlives the agent); resolves when the pid file names it. */
  private async start(): Promise<void> {
    const { dir } = this.opts;
    const code = await new Promise<number | null>((resolve, reject) => {
      // stdio ignored: the daemon must not hold a pipe of ours open.
      const child = spawn(this.nginx, ['-p', dir, '-c', this.configPath], { stdio: 'ignore', detached: true });
      child.on('error', reject);
      child.on('exit', (c) => resolve(c));
    });
    if (code !== 0) {
      const log = await readFile(join(dir, 'error.log'), 'utf8').catch(() => '');
      throw new Error(`nginx did not start (exit ${String(code)}): ${log.trim().split('\n').slice(-2).join(' | ')}`);
    }
    const until = Date.now() + 5000;
    while (Date.now() < until && (await this.pid()) === undefined) await new Promise((r) => setTimeout(r, 20));
  }

  /** Folders nginx writes to; owned by the workers' user when we run as root. */
  private async prepareDirs(): Promise<void> {
    await mkdir(this.opts.dir, { recursive: true, mode: 0o755 });
    const work = workDirFor(this.opts.dir);
    await mkdir(join(work, 'tmp'), { recursive: true, mode: 0o755 });
    for (const sub of SUBDIRS) {
      const p = join(work, sub);
      await mkdir(p, { recursive: true, mode: 0o700 });
      if (process.getuid?.() === 0) await chown(p, WORKER_UID, WORKER_UID);
    }
  }
}

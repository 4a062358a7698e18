/**
 * The one git client, on both sides: the hub's hosted repo, pre-receive checks and repo writer, and the
 * agent's revision sources run git through it. An argv array (never a shell string) through the one
 * command runner (run-command.ts); callers read the exit code and output, or use git() to throw on failure.
 */
import { FoundryError } from './errors.js';
import { gitErrorText } from './git-message.js';
import { runCommand } from './run-command.js';

/** A git command that runs this long is killed (a hung remote, a lock): 10 minutes, longer than any honest push or fetch here. */
const GIT_TIMEOUT_MS = 600_000;

/** Output of a finished git command. */
export interface GitResult {
  /** Exit code; 1 when git was killed. */
  code: number;
  stdout: string;
  /** git's stderr, or which command timed out. */
  stderr: string;
  /** True when the time limit killed it. */
  timedOut: boolean;
}

/** Options of one git command. */
export interface GitOptions {
  cwd?: string;
  /** git's whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Written to git's stdin, then closed. */
  input?: string;
  /** Kill git after this long (default 10 minutes). */
  timeoutMs?: number;
}

/** Runs `git args...`; resolves with the exit code and output (does not throw on a non-zero exit). */
export async function runGit(args: readonly string[], options: GitOptions = {}): Promise<GitResult> {
  const timeoutMs = options.timeoutMs ?? GIT_TIMEOUT_MS;
  const r = await runCommand('git', args, { cwd: options.cwd, env: options.env ?? process.env, input: options.input, timeoutMs }).catch((err: unknown) => {
    throw new FoundryError('INTERNAL', 'cannot run git', { cause: err });
  });
  const stderr = r.timedOut ? `git ${subcommand(args)} timed out after ${timeoutMs / 1000} s` : r.stderr;
  return { code: r.code ?? 1, stdout: r.stdout, stderr, timedOut: r.timedOut };
}

/** The git command in `args` (what follows the global `-C dir` and `-c key=value` options), for messages. */
function subcommand(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-C' || a === '-c') i++;
    else if (!a.startsWith('-')) return a;
  }
  return '';
}

/** Runs git and returns stdout, throwing a FoundryError naming `what` when it fails. */
export async function git(args: readonly string[], what: string, options: GitOptions = {}): Promise<string> {
  const r = await runGit(args, options);
  if (r.code !== 0) throw new FoundryError('GIT_REVISION', `${what} failed: ${gitErrorText(r.stderr)}`);
  return r.stdout;
}

/** Runs `git args...` feeding `input` on stdin; stdout comes back as bytes (for `cat-file --batch`). */
export async function runGitBytes(args: readonly string[], input: string): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const r = await runCommand('git', args, { env: process.env, input, timeoutMs: GIT_TIMEOUT_MS }).catch((err: unknown) => {
    throw new FoundryError('INTERNAL', 'cannot run git', { cause: err });
  });
  return { code: r.code ?? 1, stdout: r.stdoutBytes ?? Buffer.from(r.stdout), stderr: r.stderr };
}

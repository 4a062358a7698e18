/** Runs git with an argv array (never a shell string) and collects its output, through the one command runner. */
import { FoundryError } from '../../common/errors.js';
import { runCommand } from '../../common/run-command.js';
import { gitErrorText } from '../../common/git-message.js';

/** A git command that runs this long is killed (a hung remote, a lock): 10 minutes, longer than any honest push or fetch here. */
const GIT_TIMEOUT_MS = 600_000;

/** Output of a finished git command. */
export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `git args...`; resolves with the exit code and output (does not throw on a non-zero exit). */
export async function runGit(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<GitResult> {
  const r = await runCommand('git', args, { cwd: options.cwd, env: options.env ?? process.env, input: options.input, timeoutMs: GIT_TIMEOUT_MS }).catch((err: unknown) => {
    throw new FoundryError('INTERNAL', 'cannot run git', { cause: err });
  });
  return { code: r.code ?? 1, stdout: r.stdout, stderr: r.timedOut ? `git ${args[0] ?? ''} timed out after ${GIT_TIMEOUT_MS / 1000} s` : r.stderr };
}

/** Runs git and returns stdout, throwing a FoundryError naming `what` when it fails. */
export async function git(args: readonly string[], what: string, options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<string> {
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

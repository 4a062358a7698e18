/** Runs git with an argv array (never a shell string) and collects its output. */
import { spawn } from 'node:child_process';
import { FoundryError } from '../../common/errors.js';
import { gitErrorText } from '../../common/git-message.js';

/** Output of a finished git command. */
export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `git args...`; resolves with the exit code and output (does not throw on a non-zero exit). */
export function runGit(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => reject(new FoundryError('INTERNAL', 'cannot run git', { cause: err })));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    // git may exit before reading stdin (most commands never do): an EPIPE there is not an error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Runs git and returns stdout, throwing a FoundryError naming `what` when it fails. */
export async function git(args: readonly string[], what: string, options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<string> {
  const r = await runGit(args, options);
  if (r.code !== 0) throw new FoundryError('GIT_REVISION', `${what} failed: ${gitErrorText(r.stderr)}`);
  return r.stdout;
}

/** Runs `git args...` feeding `input` on stdin; stdout comes back as bytes (for `cat-file --batch`). */
export function runGitBytes(args: readonly string[], input: string): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => reject(new FoundryError('INTERNAL', 'cannot run git', { cause: err })));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(chunks), stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

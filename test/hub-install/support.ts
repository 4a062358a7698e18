/** Test support for install-hub.sh: runs of the script, the installed hub started through its launcher, HTTPS calls to it. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { request } from 'node:https';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../common/paths.js';

/** install-hub.sh in this checkout. */
export const INSTALL_HUB_SH = join(PACKAGE_ROOT, 'install-hub.sh');

/** The result of one run of a script. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd args` to its end without blocking the event loop. */
export function runScript(cmd: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Runs `sh install-hub.sh ARGS`. */
export function runInstallHub(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return runScript('sh', [INSTALL_HUB_SH, ...args], env);
}

/** Builds the hub bundle of this checkout into `dir` (scripts/build-hub-bundle.mjs); returns the tarball's path. */
export function buildHubBundle(dir: string): string {
  const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'scripts', 'build-hub-bundle.mjs'), dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build-hub-bundle.mjs failed: ${r.stderr}`);
  return r.stdout.split('\n')[0]!;
}

/** A hub started through the installed launcher (`foundry-hub start`), with its URL once it listens. */
export interface LauncherHub {
  child: ChildProcess;
  url: string;
  log(): string;
  stop(): Promise<number | null>;
}

/** Starts `launcher start` and resolves with the URL it prints; rejects with its log when it exits first. */
export function startViaLauncher(launcher: string): Promise<LauncherHub> {
  const child = spawn(launcher, ['start'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return closed;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`the installed hub did not listen within 60 s:\n${out}`));
    }, 60_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /^foundry hub listening on (\S+)$/m.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, log: () => out, stop });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void closed.then((code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`the installed hub exited with ${code}:\n${out}`), { code, output: out }));
    });
  });
}

/** A GET or POST over HTTPS that trusts `ca` (the hub's self-signed certificate); the body parsed as JSON. */
export function httpsJson(url: string, ca: string, options: { method?: string; token?: string } = {}): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', ca, headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A GET over HTTPS that trusts `ca`: status, location header and the body as text. */
export function httpsText(url: string, ca: string): Promise<{ status: number; location: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body: text }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Test support: an external Git smart-HTTP server that is not the hub (what GitLab is in production):
 * lighttpd from Debian's packages running `git http-backend` as CGI, HTTP Basic auth required for every
 * request (reads and pushes), on loopback. `beforeNextPush(script)` runs a shell script once, inside the
 * server, right before the next push is received: an admin push that lands between a client's ref
 * advertisement and its pack, the race the hub's writer must survive.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandWorks } from './requires.js';
import { freePort } from './free-port.js';

/** True when lighttpd and git http-backend are installed. */
export const lighttpdAvailable = commandWorks('lighttpd', ['-v']) && commandWorks('git', ['--version']);

/** How to install what the server needs (for describeIf). */
export const LIGHTTPD_HOW = 'apt-get install -y lighttpd (see .ci/run)';

/** A running server. */
export interface GitHttpServer {
  /** Clone URL of the repo (no credentials in it). */
  url: string;
  /** The bare repo on disk. */
  repoDir: string;
  /** Runs `script` (sh) once, right before the next git-receive-pack request is served. */
  beforeNextPush(script: string): void;
  /** True while a script from beforeNextPush has not run yet. */
  pendingBeforePush(): boolean;
  /** The server's error log (CGI stderr included). */
  errorLog(): string;
  close(): Promise<void>;
}

/**
 * Starts lighttpd serving a new bare repo `infra.git` under `dir` at http://127.0.0.1:PORT/git/infra.git,
 * with `users` (name → password) allowed in.
 */
export async function startGitHttpServer(dir: string, users: Record<string, string>): Promise<GitHttpServer> {
  const root = join(dir, 'git-root');
  const repoDir = join(root, 'infra.git');
  mkdirSync(root, { recursive: true });
  const init = spawnSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', repoDir], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`git init: ${init.stderr}`);
  const hookDir = join(dir, 'server-hooks');
  mkdirSync(hookDir, { recursive: true });
  const once = join(hookDir, 'before-push.sh');
  const cgi = join(dir, 'git-cgi.sh');
  // The one-shot script runs in a clean git environment (not the CGI's), then git http-backend takes over.
  writeFileSync(
    cgi,
    `#!/bin/sh\ncase "$PATH_INFO" in */git-receive-pack) if [ "$REQUEST_METHOD" = POST ] && [ -f '${once}' ]; then (env -u GIT_PROJECT_ROOT -u GIT_HTTP_EXPORT_ALL sh '${once}') >>'${join(hookDir, 'before-push.log')}' 2>&1; rm -f '${once}'; fi;; esac\nexec git http-backend\n`,
  );
  chmodSync(cgi, 0o755);
  const userfile = join(dir, 'users');
  writeFileSync(userfile, Object.entries(users).map(([u, p]) => `${u}:${p}\n`).join(''), { mode: 0o600 });
  const port = await freePort();
  const errorLog = join(dir, 'lighttpd-error.log');
  const conf = join(dir, 'lighttpd.conf');
  writeFileSync(
    conf,
    [
      `server.document-root = "${root}"`,
      `server.port = ${port}`,
      'server.bind = "127.0.0.1"',
      `server.errorlog = "${errorLog}"`,
      'server.modules = ( "mod_alias", "mod_auth", "mod_authn_file", "mod_setenv", "mod_cgi" )',
      'auth.backend = "plain"',
      `auth.backend.plain.userfile = "${userfile}"`,
      `alias.url = ( "/git/" => "${cgi}/" )`,
      '$HTTP["url"] =~ "^/git/" {',
      '  cgi.assign = ( "" => "" )',
      `  setenv.add-environment = ( "GIT_PROJECT_ROOT" => "${root}", "GIT_HTTP_EXPORT_ALL" => "1", "PATH" => "${process.env.PATH ?? '/usr/bin:/bin'}" )`,
      '  auth.require = ( "" => ( "method" => "basic", "realm" => "infra", "require" => "valid-user" ) )',
      '}',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('lighttpd', ['-D', '-f', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const url = `http://127.0.0.1:${port}/git/infra.git`;
  const end = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`lighttpd exited: ${stderr}`);
    const ok = await fetch(`http://127.0.0.1:${port}/git/infra.git/info/refs?service=git-upload-pack`).then((r) => r.status === 401).catch(() => false);
    if (ok) break;
    if (Date.now() > end) throw new Error(`lighttpd did not answer on ${port}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    repoDir,
    beforeNextPush: (script) => writeFileSync(once, script),
    pendingBeforePush: () => existsSync(once),
    errorLog: () => {
      try {
        return readFileSync(errorLog, 'utf8');
      } catch {
        return '';
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

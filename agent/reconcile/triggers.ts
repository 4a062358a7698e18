/**
 * What starts a reconcile besides the agent starting: a poll timer (with jitter), a watch on a local
 * repo (a commit, or a saved file in a plain folder), and `foundry agent sync` through a unix socket in
 * the state dir (the hub's sync message will call the same trigger function).
 */
import { existsSync } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { FoundryError } from '../../common/errors.js';

/** Something that can be stopped. */
export interface Stoppable {
  stop(): Promise<void>;
}

/** Calls `fire` every `intervalMs()` ± 10% (the interval is read again each time, so a new revision can change it). */
export function startPolling(intervalMs: () => number, fire: () => Promise<unknown>, random: () => number = Math.random): Stoppable {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = (): void => {
    if (stopped) return;
    const base = intervalMs();
    timer = setTimeout(() => {
      void fire()
        .catch(() => undefined)
        .finally(schedule);
    }, Math.round(base * (0.9 + random() * 0.2)));
    timer.unref?.();
  };
  schedule();
  return {
    stop: async () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}

/** Paths to watch for a local repo: the refs of a git repo, or the folder itself for a plain one. */
export function watchPaths(localPath: string): { paths: string[]; git: boolean } {
  const gitDir = join(localPath, '.git');
  if (existsSync(gitDir)) return { paths: [join(gitDir, 'HEAD'), join(gitDir, 'refs', 'heads'), join(gitDir, 'packed-refs')], git: true };
  return { paths: [localPath], git: false };
}

/** Watches a local repo and calls `fire` (debounced by `debounceMs`) when it changes. */
export async function watchLocalRepo(localPath: string, fire: () => void, debounceMs = 50): Promise<Stoppable> {
  const { watch } = await import('chokidar'); // only the long-running loop watches; `run --once` never loads it
  const { paths, git } = watchPaths(localPath);
  const watcher = watch(paths, {
    ignoreInitial: true,
    // In a plain folder, only YAML files count; git internals and editors' temp files do not.
    ignored: git ? undefined : (p: string, stats?: { isFile(): boolean }) => /(^|\/)\.[^/]/.test(p.slice(localPath.length)) || (stats?.isFile() === true && !/\.ya?ml$/.test(p)),
  });
  let timer: NodeJS.Timeout | undefined;
  watcher.on('all', () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(fire, debounceMs);
  });
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return {
    stop: async () => {
      if (timer !== undefined) clearTimeout(timer);
      await watcher.close();
    },
  };
}

/** Path of the sync socket in the state dir. */
export function syncSocketPath(stateDir: string): string {
  return join(stateDir, 'agent.sock');
}

/** Reply of the agent to a sync request. */
export interface SyncReply {
  converged: boolean;
  observedRevision: string | undefined;
  lastAppliedRevision: string | undefined;
  message: string;
}

/**
 * Listens on the sync socket; each connection that sends "sync" gets one reconcile and its result.
 * Refuses to start when another agent answers on the socket (one agent per state dir).
 */
export async function startSyncServer(socketPath: string, handle: () => Promise<SyncReply>): Promise<Stoppable> {
  await mkdir(dirname(socketPath), { recursive: true, mode: 0o700 });
  if (existsSync(socketPath)) {
    if (await answers(socketPath)) throw new FoundryError('CONFIG_INVALID', `another agent is already running with this state dir (it answers on ${socketPath})`, { resource: socketPath });
    await unlink(socketPath); // left by an agent that was killed
  }
  const server: Server = createServer((conn) => {
    let buf = '';
    conn.setEncoding('utf8');
    conn.on('data', (d: string) => {
      buf += d;
      if (!buf.includes('\n')) return;
      const cmd = buf.trim();
      buf = '';
      if (cmd === 'ping') {
        conn.end('{"pong":true}\n');
        return;
      }
      if (cmd !== 'sync') {
        conn.end(`${JSON.stringify({ error: `unknown command ${cmd.slice(0, 20)}` })}\n`);
        return;
      }
      handle().then(
        (reply) => conn.end(`${JSON.stringify(reply)}\n`),
        (err: unknown) => conn.end(`${JSON.stringify({ error: err instanceof Error ? err.message : String(err) })}\n`),
      );
    });
    conn.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await unlink(socketPath).catch(() => undefined);
    },
  };
}

async function answers(socketPath: string): Promise<boolean> {
  try {
    const reply = await sendCommand(socketPath, 'ping', 2_000);
    return reply.includes('pong');
  } catch {
    return false;
  }
}

/** Sends one command line to the agent's socket and returns its one-line reply. */
export function sendCommand(socketPath: string, command: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(socketPath);
    let out = '';
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new FoundryError('RUNTIME_UNAVAILABLE', `the agent did not answer on ${socketPath} within ${Math.round(timeoutMs / 1000)} s`, { resource: socketPath }));
    }, timeoutMs);
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(`${command}\n`));
    conn.on('data', (d: string) => (out += d));
    conn.on('end', () => {
      clearTimeout(timer);
      resolve(out.trim());
    });
    conn.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new FoundryError('RUNTIME_UNAVAILABLE', `no agent is running with this state dir (${socketPath}: ${err.code ?? err.message})`, { resource: socketPath, cause: err }));
    });
  });
}

/** Asks the running agent to reconcile now and waits for the result (`foundry agent sync`). */
export async function requestSync(stateDir: string, timeoutMs = 10 * 60_000): Promise<SyncReply> {
  const raw = await sendCommand(syncSocketPath(stateDir), 'sync', timeoutMs);
  const reply = JSON.parse(raw) as SyncReply & { error?: string };
  if (reply.error !== undefined) throw new FoundryError('INTERNAL', `the agent could not sync: ${reply.error}`, { resource: stateDir });
  return reply;
}

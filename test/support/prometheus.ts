/**
 * Test support: a real Prometheus (Debian's `prometheus` package) in a private temp dir on a free
 * loopback port, with its own TSDB, and promtool. Tests write the configuration (short scrape interval)
 * and query the HTTP API.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from './free-port.js';
import { onPath } from './requires.js';

/** What tests say when Prometheus is missing. */
export const PROMETHEUS_HOW = 'apt-get install -y --no-install-recommends prometheus (prometheus and promtool on PATH)';

/** True when prometheus and promtool are on PATH. */
export function prometheusAvailable(): boolean {
  return onPath('prometheus', 'promtool');
}

/** Result of one promtool run. */
export interface PromtoolResult {
  status: number;
  output: string;
}

/** Runs `promtool args...` (60 s at most); stdout and stderr together, as promtool splits them oddly. */
export function promtool(args: string[], cwd?: string): PromtoolResult {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status ?? 1, output: `${r.stdout}${r.stderr}` };
}

/** One series of an instant query's answer. */
export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** A running Prometheus. */
export interface RunningPrometheus {
  url: string;
  /** Its private folder: the configuration lives here, the TSDB under data/. */
  dir: string;
  /** Instant query through /api/v1/query; throws with Prometheus' error for a bad expression. */
  query(expr: string): Promise<PromSample[]>;
  /** GET `path` of the HTTP API, parsed `data`. */
  api<T>(path: string): Promise<T>;
  stop(): Promise<void>;
}

/**
 * Starts Prometheus with `config` (prometheus.yml text) written into a private temp dir, plus `files`
 * (relative path → content, mode 0600: a token file among them) beside it; resolves once /-/ready answers. Retries on a port taken in between.
 */
export async function startPrometheus(config: string, files: Record<string, string> = {}): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'foundry-prometheus-'));
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content, { mode: 0o600 });
  }
  writeFileSync(join(dir, 'prometheus.yml'), config);
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr?.on('data', (b: Buffer) => { log = (log + b.toString()).slice(-4000); });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitReady(url, child, () => log);
      return handle(url, dir, child);
    } catch (e) {
      lastError = e as Error;
      await stopChild(child);
      if (!/address already in use/.test(log)) break;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError ?? new Error('prometheus did not start');
}

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const end = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${log()}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error(`prometheus at ${url} not ready within 30 s: ${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function handle(url: string, dir: string, child: ChildProcess): RunningPrometheus {
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? res.status}`);
    return body.data;
  };
  return {
    url,
    dir,
    api,
    async query(expr) {
      const data = await api<{ resultType: string; result: PromSample[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
      if (data.resultType !== 'vector') throw new Error(`prometheus query ${expr}: expected a vector, got ${data.resultType}`);
      return data.result;
    },
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

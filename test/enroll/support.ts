/** Test support for enrollment: a hub on loopback (startHub, temp data dir), install.sh runs, file-tree snapshots, certificates. */
import { spawn, spawnSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startHub, type RunningHub } from '../../hub/server.js';
import { EXAMPLE_INFRA_DIR, PACKAGE_ROOT } from '../../common/paths.js';

/** install.sh in this checkout. */
export const INSTALL_SH = join(PACKAGE_ROOT, 'install.sh');
/** The nvidia-smi stand-in (real H100 captures), so enrolled nodes report GPUs. */
export const FAKE_SMI = join(PACKAGE_ROOT, 'scripts', 'fake-nvidia-smi');

/** A hub for enrollment tests, with an admin token. */
export interface EnrollHub {
  hub: RunningHub;
  dir: string;
  admin: string;
  repoDir: string;
  /** The TLS hub's certificate (PEM), trusted by api(). */
  ca: string | undefined;
  close(): Promise<void>;
}

/** Starts a hub on 127.0.0.1:0 hosting a repo seeded from the example infra; TLS when given a cert and key. */
export async function startEnrollHub(tls?: { cert: string; key: string }): Promise<EnrollHub> {
  const dir = mkdtempSync(join(tmpdir(), 'foundry-enroll-'));
  const hub = await startHub({ dataDir: join(dir, 'hub'), port: 0, seedFrom: EXAMPLE_INFRA_DIR, logger: false, ...(tls === undefined ? {} : { tlsCert: tls.cert, tlsKey: tls.key }) });
  const admin = (await hub.store.createAdminToken('test'));
  return {
    hub,
    dir,
    admin,
    repoDir: join(dir, 'hub', 'infra.git'),
    ca: tls === undefined ? undefined : readFileSync(tls.cert, 'utf8'),
    async close() {
      await hub.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Response bodies are checked field by field in the tests.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** Calls the hub's API as admin (a TLS hub is trusted through its own self-signed certificate). */
export function api(h: EnrollHub, method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const url = new URL(path, h.hub.url);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method, ca: h.ca, headers: { authorization: `Bearer ${h.admin}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Creates a join token through the API; returns its id and text. */
export async function newToken(h: EnrollHub, body: Record<string, unknown> = {}): Promise<{ id: string; token: string; installCommand: string }> {
  const r = await api(h, 'POST', '/api/v1/join-tokens', body);
  if (r.status !== 201) throw new Error(`join token: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as { id: string; token: string; installCommand: string };
}

/** The result of one install.sh run. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `sh install.sh ARGS` (asynchronously: the hub runs in this process). Nodes have no GPU unless env says FOUNDRY_NVIDIA_SMI=FAKE_SMI. */
export function runInstall(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', [INSTALL_SH, ...args], { env: { ...process.env, FOUNDRY_NVIDIA_SMI: '/nonexistent/nvidia-smi', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Every entry under `root`: path → "file <sha256> <mode> <mtime>", "link -> target" or "dir <mode>". */
export function snapshot(root: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(root)) return out;
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const rel = relative(root, p);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) out.set(rel, `link -> ${readlinkSync(p)}`);
      else if (st.isDirectory()) {
        out.set(rel, `dir ${(st.mode & 0o7777).toString(8)}`);
        // The installed package is large; its content is covered by the bundle checksum.
        if (!rel.includes('releases/')) walk(p);
        else out.set(rel, `dir ${(st.mode & 0o7777).toString(8)} ${st.mtimeMs}`);
      } else out.set(rel, `file ${createHash('sha256').update(readFileSync(p)).digest('hex')} ${(st.mode & 0o7777).toString(8)} ${st.mtimeMs}`);
    }
  };
  walk(root);
  return out;
}

/** Files and links (not folders) under root. */
export function filesUnder(root: string): string[] {
  return [...snapshot(root).entries()].filter(([, v]) => !v.startsWith('dir')).map(([k]) => k);
}

/** A self-signed certificate for 127.0.0.1 made by openssl, in a temp dir. */
export function selfSignedCert(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr}`);
  return { cert, key };
}

/** True when every command answers. */
export function toolsPresent(...cmds: string[]): boolean {
  return cmds.every((c) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', c], { stdio: 'ignore' }).status === 0);
}

/** `foundry hub ...` as real processes: credentials from the CLI, start printing its URL, graceful SIGTERM, TLS. */
import { it, expect, afterAll } from 'vitest';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:https';
import { HubLink } from '../../agent/link/hub-link.js';
import { HubStore } from '../../hub/store/hub-store.js';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { tempDir, waitFor } from './support.js';
import { describeIfBuilt } from '../support/requires.js';

const describeBuilt = describeIfBuilt('dist/cli/hub.js');
const bin = join(PACKAGE_ROOT, 'bin', 'foundry.js');
const dir = tempDir('foundry-hub-cli-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function foundry(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => execFile(process.execPath, [bin, ...args], (err, stdout, stderr) => resolve({ code: err === null ? 0 : Number(err.code ?? 1), stdout, stderr })));
}

async function start(args: string[]): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [bin, 'hub', 'start', '--port', '0', '--log-level', 'warn', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', () => reject(new Error(`hub exited before listening: ${out}`)));
  });
  return { child, url, exited };
}

describeBuilt('foundry hub (cli)', () => {
  it('creates credentials, serves an agent, and stops gracefully on SIGTERM with nothing lost', async () => {
    const data = join(dir, 'plain');
    const add = await foundry(['hub', 'node', 'add', 'gpu-01', '--data-dir', data]);
    expect(add.code).toBe(0);
    const credential = add.stdout.trim();
    expect(credential).toMatch(/^fnc_[A-Za-z0-9_-]{43}$/);
    expect(add.stderr).toContain('credential printed once above');
    expect((await foundry(['hub', 'admin-token', 'create', '--label', 'ops', '--data-dir', data])).stdout).toMatch(/^fat_[A-Za-z0-9_-]{43}\n$/);
    expect((await foundry(['hub', 'node', 'add', 'Bad_Name', '--data-dir', data])).code).not.toBe(0);

    const hub = await start(['--data-dir', data]);
    expect(hub.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const link = new HubLink({ hubUrl: hub.url, node: 'gpu-01', credential, stateDir: join(dir, 'agent') }).start();
    for (let i = 1; i <= 50; i++) link.enqueueUsage({ i });
    await waitFor(() => link.pending() === 0, 10_000, 'acks');
    hub.child.kill('SIGTERM');
    expect(await hub.exited).toBe(0);
    await link.close();
    const store = new HubStore(join(data, 'hub.db'));
    // { i } is no usage record: the admission gate refused each, and kept it for admins; none is lost
    const settled = store.db.prepare("SELECT reason, record FROM usage_refusals WHERE node = 'gpu-01' ORDER BY seq").all() as Array<{ reason: string; record: string }>;
    expect(settled.map((r) => [r.reason, JSON.parse(r.record)])).toEqual(Array.from({ length: 50 }, (_, i) => ['malformed', { i: i + 1 }]));
    expect((await store.usageRecords('gpu-01'))).toEqual([]);
    expect((await store.nodes())).toMatchObject([{ name: 'gpu-01', status: 'disconnected' }]);
    await store.close();
    // The WAL was checkpointed into the main file on close.
    expect(existsSync(join(data, 'hub.db-wal')) ? readFileSync(join(data, 'hub.db-wal')).length : 0).toBe(0);
  });

  it('serves https and wss with a given certificate', async () => {
    const data = join(dir, 'tls');
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    await new Promise<void>((resolve, reject) => execFile('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], (err) => (err ? reject(err) : resolve())));
    const credential = (await foundry(['hub', 'node', 'add', 'gpu-01', '--data-dir', data])).stdout.trim();
    const hub = await start(['--data-dir', data, '--tls-cert', cert, '--tls-key', key]);
    expect(hub.url).toMatch(/^https:\/\//);
    const ca = readFileSync(cert);
    const status = await new Promise<number>((resolve, reject) => request(`${hub.url}/healthz`, { ca }, (res) => resolve(res.statusCode ?? 0)).on('error', reject).end());
    expect(status).toBe(200);
    const link = new HubLink({ hubUrl: hub.url, node: 'gpu-01', credential, stateDir: join(dir, 'agent-tls'), ca }).start();
    link.enqueueUsage({ tls: true });
    await waitFor(() => link.pending() === 0, 10_000, 'ack over wss');
    await link.close();
    hub.child.kill('SIGTERM');
    expect(await hub.exited).toBe(0);
  });
});

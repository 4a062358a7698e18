/**
 * `foundry dev`, what `npm start` runs, as a real process: the hub and a local agent with the embedded
 * defaults, against a private Podman. It prints where everything is and the admin token once, the local
 * agent connects and reports, /metrics needs the token, a second start reuses the data dir (no new token,
 * the same node credential), and Ctrl-C stops it cleanly.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { describeIf } from '../support/requires.js';
import { PODMAN_HOW, podmanAvailable, startPrivatePodman, type PrivatePodman } from '../support/podman.js';
import { tempDir, waitFor } from '../hub/support.js';
import { readyLine } from '../../cli/dev.js';
import type { AgentStatus } from '../../agent/reconcile/status.js';

const bin = join(PACKAGE_ROOT, 'bin', 'foundry.js');
const dir = tempDir('foundry-dev-cli-');
let pm: PrivatePodman | undefined;

interface Dev {
  child: ChildProcess;
  out: () => string;
  /** The exit code, or the signal's name when a signal ended it. */
  exited: Promise<number | string | null>;
}

function startDev(socket: string): Dev {
  const child = spawn(process.execPath, [bin, 'dev', '--data-dir', join(dir, 'data'), '--port', '0', '--podman-socket', socket], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  return { child, out: () => out, exited };
}

async function stop(dev: Dev): Promise<number | string | null> {
  dev.child.kill('SIGINT');
  return dev.exited;
}

describeIf(podmanAvailable(), 'podman', PODMAN_HOW)('foundry dev (npm start)', () => {
  beforeAll(async () => {
    pm = await startPrivatePodman();
  }, 120_000);
  afterAll(async () => {
    await pm?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('runs the hub and a local agent, prints where they are and the admin token once, and stops on Ctrl-C', async () => {
    const first = startDev((pm as PrivatePodman).socketPath);
    try {
      await waitFor(() => first.out().includes('stop with Ctrl-C'), 60_000, `the banner; got: ${first.out()}`);
      const url = /hub: +(http:\/\/127\.0\.0\.1:\d+)/.exec(first.out())?.[1] as string;
      const token = /admin token \(shown once, stored hashed\): (fat_[A-Za-z0-9_-]{43})/.exec(first.out())?.[1] as string;
      expect(url).toBeDefined();
      expect(token).toBeDefined();
      expect(first.out()).toContain(`podman socket ${(pm as PrivatePodman).socketPath}`);
      expect(first.out()).not.toMatch(/fnc_[A-Za-z0-9_-]{43}/); // the node credential stays in its file

      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/metrics`)).status).toBe(401);
      const auth = { headers: { authorization: `Bearer ${token}` } };
      expect(await (await fetch(`${url}/metrics`, auth)).text()).toContain('foundry_');
      // The local agent connects over the WebSocket and reports the revision it applied.
      const local = await waitFor(async () => {
        const body = (await (await fetch(`${url}/api/v1/nodes`, auth)).json()) as { nodes: Array<{ name: string; connected: boolean; appliedRevision?: string | null }> };
        return body.nodes.find((n) => n.name === 'local' && n.connected);
      }, 60_000, 'the local agent to connect');
      expect(local.name).toBe('local');
      // No registry is reachable here: the local node still reaches Ready (its dev-node profile runs no
      // image that needs one), and says so once.
      await waitFor(() => /agent local: ready at [0-9a-f]{12} \(ReconciliationSucceeded\)/.test(first.out()), 90_000, `the local node Ready; got: ${first.out()}`);
      const status = JSON.parse(readFileSync(join(dir, 'data', 'agent', 'state', 'status.json'), 'utf8')) as AgentStatus;
      expect(status.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'ReconciliationSucceeded' });
      expect(status.resources.filter((r) => r.phase === 'Stalled')).toEqual([]);
      expect(first.out().match(/agent local: ready at/g)).toHaveLength(1);
      // The dashboard's view of it: connected, Ready, online, with the revision it applied.
      const fleet = await waitFor(async () => {
        const body = (await (await fetch(`${url}/api/v1/fleet/nodes`, auth)).json()) as { nodes: Array<{ name: string; state: string; connected: boolean; ready: { status: string } | null; appliedRevision: string | null; desiredRevision: string | null }> };
        const n = body.nodes.find((x) => x.name === 'local');
        return n?.appliedRevision !== null && n?.ready?.status === 'True' ? n : undefined;
      }, 30_000, 'the local node applied on the dashboard');
      expect(fleet).toMatchObject({ state: 'online', connected: true, profile: 'dev-node' });
      expect(fleet.appliedRevision).toMatch(/^[0-9a-f]{40}$/);
      expect(status.lastAppliedRevision).toBe(fleet.appliedRevision);
      // The first sign-in to the dashboard: user admin and a one-time password that works once.
      const password = /sign in: +user admin, one-time password \(shown once\): (\S+)/.exec(first.out())?.[1] as string;
      expect(password).toMatch(/^\S{20}$/);
      const login = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'admin', password }) });
      expect(login.status).toBe(200);
      expect(await login.json()).toMatchObject({ next: 'setup', mustChangePassword: true });
      expect(readFileSync(join(dir, 'data', 'logs', 'hub.log'), 'utf8')).not.toContain(password);
      expect(readFileSync(join(dir, 'data', 'logs', 'hub.log'), 'utf8')).not.toContain(token);
    } finally {
      expect(await stop(first)).toBe(0);
    }
    expect(first.out()).toContain('stopping: agent, then hub');
    const credential = readFileSync(join(dir, 'data', 'agent', 'credential'), 'utf8');

    // A second start on the same data dir: no second admin token, the same node credential.
    const second = startDev((pm as PrivatePodman).socketPath);
    try {
      await waitFor(() => second.out().includes('stop with Ctrl-C'), 60_000, `the banner; got: ${second.out()}`);
      expect(second.out()).toContain('admin token: printed at the first start');
      expect(second.out()).not.toMatch(/fat_[A-Za-z0-9_-]{43}/);
      // No second password: how to add a dashboard user instead.
      expect(second.out()).not.toContain('one-time password (shown once)');
      expect(second.out()).toContain(`another: node bin/foundry.js hub user add NAME --role admin --data-dir ${join(dir, 'data', 'hub')}`);
    } finally {
      expect(await stop(second)).toBe(0);
    }
    expect(readFileSync(join(dir, 'data', 'agent', 'credential'), 'utf8')).toBe(credential);
  }, 240_000);
});

it('prints an unchanged resource error the same way on every retry (no new line per reconcile)', () => {
  const stalled = (message: string): AgentStatus =>
    ({ observedRevision: 'abcdef0123456789', conditions: [{ type: 'Ready', status: 'False', reason: 'ProgressingWithRetry', message: '1 resources not ready' }], resources: [{ id: 'node.x', phase: 'Stalled', message }] }) as unknown as AgentStatus;
  const pull = 'image quay.io/x:1 could not be pulled: dial tcp: lookup quay.io: no such host and is not present on the node';
  const lines = new Set([
    readyLine(stalled(`create failed: ${pull}`)),
    readyLine(stalled(`${pull} (backing off: retry 2 at 2026-12-07T10:00:05.000Z)`)),
    readyLine(stalled(`create failed: ${pull}`)),
    readyLine(stalled(`${pull} (backing off: retry 3 at 2026-12-07T10:00:15.000Z)`)),
  ]);
  expect([...lines]).toEqual([`agent local: not ready at abcdef012345 (ProgressingWithRetry); 1 stalled, e.g. node.x: ${pull}`]);
});

it('says why the local agent is not ready when the revision itself is refused, and names the first stalled resource', () => {
  const status = (ready: { status: string; reason: string; message: string }, stalled: Array<{ id: string; message: string }> = []): AgentStatus =>
    ({ observedRevision: 'abcdef0123456789', conditions: [{ type: 'Ready', ...ready }], resources: stalled.map((s) => ({ ...s, phase: 'Stalled' })) }) as unknown as AgentStatus;
  expect(readyLine(status({ status: 'True', reason: 'ReconciliationSucceeded', message: 'applied revision abcdef' }))).toBe('agent local: ready at abcdef012345 (ReconciliationSucceeded)');
  expect(readyLine(status({ status: 'False', reason: 'PruneRefused', message: 'refusing to prune 2 of 2 managed workloads; set spec.allowMassPrune: true' })))
    .toBe('agent local: not ready at abcdef012345 (PruneRefused: refusing to prune 2 of 2 managed workloads; set spec.allowMassPrune: true)');
  expect(readyLine(status({ status: 'False', reason: 'ProgressingWithRetry', message: '1 resources not ready' }, [{ id: 'node.exporter', message: 'image could not be pulled' }])))
    .toBe('agent local: not ready at abcdef012345 (ProgressingWithRetry); 1 stalled, e.g. node.exporter: image could not be pulled');
});

/**
 * The loop as a process (`foundry agent run`), with real Podman and git: a commit in the local repo is
 * applied through the watch (the poll interval is an hour, so only the watch can do it), `foundry agent
 * sync` reconciles on demand and reports, SIGTERM stops cleanly, and `--once` exits 1 when it cannot
 * converge. Needs `npm run build` (npm test runs it).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describeIf } from '../support/requires.js';
import { PODMAN_HOW, podmanAvailable, startPrivatePodman, TEST_IMAGE, type PrivatePodman } from '../support/podman.js';
import { commitRepo, initGitRepo, type RepoSpec } from '../agent/infra-fixture.js';
import { managedContainers } from '../agent/agent-harness.js';
import type { AgentStatus } from '../../agent/reconcile/status.js';

const NODE = 'loop-01';
const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'foundry.js');

const ws = (names: string[], image = TEST_IMAGE): RepoSpec => ({
  node: NODE,
  templates: { s: [{ name: 'main', image, pullPolicy: 'Never', command: ['sleep', '600'] }] },
  workspaces: Object.fromEntries(names.map((n) => [n, { template: 's' }])),
});

async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describeIf(podmanAvailable() && existsSync(join(ROOT, 'dist', 'cli', 'agent-run.js')), 'podman and a build (npm run build)', PODMAN_HOW)('foundry agent run as a process (real podman, real git)', () => {
  let pm: PrivatePodman;
  let dir: string;
  let repo: string;
  let config: string;
  let agent: ChildProcess | undefined;
  let out = '';

  beforeAll(async () => {
    pm = await startPrivatePodman();
    dir = mkdtempSync(join(tmpdir(), 'fc-loop-'));
    repo = join(dir, 'repo');
    initGitRepo(repo);
    config = join(dir, 'agent.yaml');
    writeFileSync(config, [`node: ${NODE}`, `repo: { url: ${repo}, branch: main, pollInterval: 1h }`, `stateDir: ${join(dir, 'state')}`, `cacheDir: ${join(dir, 'cache')}`, `podman: { socketPath: ${pm.socketPath}, stopTimeout: 0s }`, ''].join('\n'));
    // Waits for the Podman test lock while another file uses Podman: allow for that.
  }, 600_000);
  afterAll(async () => {
    agent?.kill('SIGKILL');
    await pm?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies a commit through the local-repo watch, answers foundry agent sync, and stops on SIGTERM', async () => {
    commitRepo(repo, ws(['loop-a']), 'first');
    agent = spawn(process.execPath, [CLI, 'agent', 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    agent.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    agent.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    await until(async () => (await managedContainers(pm, NODE)).lines.join() === 'fc-ws-loop-a-main running', 30_000, 'the first workspace');
    await until(() => out.includes('"event":"reconciled"'), 10_000, 'the first reconcile to finish');

    const rev = commitRepo(repo, ws(['loop-a', 'loop-b']), 'second workspace');
    await until(async () => (await managedContainers(pm, NODE)).lines.join() === 'fc-ws-loop-a-main running,fc-ws-loop-b-main running', 30_000, 'the watch to apply the commit');
    await until(() => /"event":"reconciled","trigger":"watch"/.test(out), 10_000, 'the watch-triggered reconcile to finish');

    pm.podman(['stop', '-t', '0', 'fc-ws-loop-b-main']);
    const sync = spawnSync(process.execPath, [CLI, 'agent', 'sync', '--config', config], { encoding: 'utf8', timeout: 60_000 });
    expect(sync.stdout).toBe(`converged at ${rev}: applied revision ${rev}\n`);
    expect(sync.status).toBe(0);
    expect((await managedContainers(pm, NODE)).lines).toEqual(['fc-ws-loop-a-main running', 'fc-ws-loop-b-main running']);

    // A second agent on the same state dir is refused.
    const twin = spawnSync(process.execPath, [CLI, 'agent', 'run', '--once', '--config', config], { encoding: 'utf8', timeout: 60_000 });
    expect(twin.stderr).toMatch(/another agent is already running with this state dir/);
    expect(twin.status).toBe(1);

    const exited = new Promise<number | null>((res) => agent!.once('exit', (code) => res(code)));
    agent.kill('SIGTERM');
    expect(await exited).toBe(0);
    agent = undefined;
    const status = JSON.parse(readFileSync(join(dir, 'state', 'status.json'), 'utf8')) as AgentStatus;
    expect(status.lastAppliedRevision).toBe(rev);
    // Every log line is one JSON object.
    for (const line of out.trim().split('\n')) expect(() => JSON.parse(line) as unknown).not.toThrow();
  }, 180_000);

  it('--once exits 1 when it cannot converge and says why; sync exits 3 when no agent runs', () => {
    commitRepo(repo, ws(['loop-a', 'loop-b', 'loop-c'], 'localhost/not-here:1'), 'missing image');
    const once = spawnSync(process.execPath, [CLI, 'agent', 'run', '--once', '--config', config], { encoding: 'utf8', timeout: 120_000 });
    expect(once.status).toBe(1);
    expect(once.stderr).toBe('not converged: ProgressingWithRetry 3 resources not ready\n');
    expect(once.stdout).toMatch(/"event":"apply-failed".*"code":"IMAGE_MISSING"/);
    const sync = spawnSync(process.execPath, [CLI, 'agent', 'sync', '--config', config], { encoding: 'utf8', timeout: 60_000 });
    expect(sync.status).toBe(3);
    expect(sync.stderr).toMatch(/^foundry: no agent is running with this state dir/);
  }, 120_000);
});

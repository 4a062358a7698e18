/**
 * kill -9 of the agent process in the middle of a reconcile, repeated: each round commits a change that
 * recreates every container, starts `foundry agent run`, waits until it has applied at least one action,
 * then kills it with SIGKILL. Afterwards `foundry agent run --once` converges with exactly one container
 * per declared id, and the volume's data intact. Needs `npm run build` (npm test runs it).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Docker from 'dockerode';
import { describeIf } from '../support/requires.js';
import { PODMAN_HOW, podmanAvailable, startPrivatePodman, TEST_IMAGE, type PrivatePodman } from '../support/podman.js';
import { commitRepo, initGitRepo, type RepoSpec } from '../agent/infra-fixture.js';

const NODE = 'crash-01';
const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'foundry.js');
// npm run chaos runs more rounds (FOUNDRY_CRASH_ROUNDS in vitest.chaos.config.ts).
const ROUNDS = Number(process.env.FOUNDRY_CRASH_ROUNDS ?? 5);

function spec(tag: string): RepoSpec {
  const c = (name: string): Record<string, unknown> & { name: string; image: string } => ({ name, image: TEST_IMAGE, pullPolicy: 'Never', env: { TAG: tag }, command: ['sh', '-c', `echo ${tag} >> /data/${name}; exec sleep 600`], volumes: [{ name: 'data', mountPath: '/data' }] });
  return { node: NODE, templates: { five: ['a', 'b', 'c', 'd', 'e'].map(c) }, workspaces: { 'acme-crash': { template: 'five' } } };
}

/** Starts the agent, waits until it logs its first applied action (plus a little), kills it with SIGKILL. */
function runAndKill(config: string, extraDelayMs: number): Promise<{ applied: number; reconciled: boolean }> {
  return new Promise((resolveRun, rejectRun) => {
    const child = spawn(process.execPath, [CLI, 'agent', 'run', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let armed = false;
    const giveUp = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!armed && out.includes('"event":"applied"')) {
        armed = true;
        setTimeout(() => child.kill('SIGKILL'), extraDelayMs);
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', rejectRun);
    child.on('exit', (_code, signal) => {
      clearTimeout(giveUp);
      if (signal !== 'SIGKILL') return rejectRun(new Error(`agent exited by itself (${signal ?? _code}): ${err}${out.slice(-2000)}`));
      resolveRun({ applied: (out.match(/"event":"applied"/g) ?? []).length, reconciled: out.includes('"event":"reconciled"') });
    });
  });
}

describeIf(podmanAvailable() && existsSync(join(ROOT, 'dist', 'cli', 'agent-run.js')), 'podman and a build (npm run build)', PODMAN_HOW)('kill -9 during reconcile (real podman, agent process)', () => {
  let pm: PrivatePodman;
  let dir: string;
  let repo: string;
  let config: string;

  beforeAll(async () => {
    pm = await startPrivatePodman();
    dir = mkdtempSync(join(tmpdir(), 'fc-crash-'));
    repo = join(dir, 'repo');
    initGitRepo(repo);
    config = join(dir, 'agent.yaml');
    writeFileSync(config, [`node: ${NODE}`, `repo: { url: ${repo}, branch: main, pollInterval: 60s }`, `stateDir: ${join(dir, 'state')}`, `cacheDir: ${join(dir, 'cache')}`, `podman: { socketPath: ${pm.socketPath}, stopTimeout: 0s }`, 'log: { level: info }', ''].join('\n'));
    // Waits for the Podman test lock while another file uses Podman: allow for that.
  }, 600_000);
  afterAll(async () => {
    await pm?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends converged with one container per id and no lost volume data, after repeated kill -9 mid-apply', async () => {
    // A first full convergence, then a file in the volume that must survive everything that follows.
    commitRepo(repo, spec('init'), 'initial');
    const first = spawnSync(process.execPath, [CLI, 'agent', 'run', '--once', '--config', config], { encoding: 'utf8', timeout: 120_000 });
    expect(first.status).toBe(0);
    pm.podman(['exec', 'fc-ws-acme-crash-a', 'sh', '-c', 'echo precious > /data/sentinel']);
    const midApply: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      commitRepo(repo, spec(`v${round}`), `round ${round}`);
      // Kill at different points of the apply phase: right after the first action, or a bit later.
      const r = await runAndKill(config, [0, 40, 90, 150, 250][round % 5]!);
      if (!r.reconciled) midApply.push(r.applied);
    }
    console.log(`${ROUNDS} kill -9 rounds, ${midApply.length} cut short mid-apply (after ${midApply.join(', ')} applied actions)`);
    // Most rounds must really have been cut short in the middle of applying.
    expect(midApply.length).toBeGreaterThanOrEqual(3);

    const final = spawnSync(process.execPath, [CLI, 'agent', 'run', '--once', '--config', config], { encoding: 'utf8', timeout: 120_000 });
    expect(final.stderr).toMatch(/^converged: ReconciliationSucceeded/m);
    expect(final.status).toBe(0);

    const docker = new Docker({ socketPath: pm.socketPath });
    const all = await docker.listContainers({ all: true });
    const byId = new Map<string, string[]>();
    for (const c of all) {
      const id = c.Labels['foundry.cloud/id'] ?? `(unmanaged) ${c.Names[0]}`;
      byId.set(id, [...(byId.get(id) ?? []), `${c.Names[0]} ${c.State}`]);
    }
    expect(Object.fromEntries(byId)).toEqual({
      'ws.acme-crash.a': ['/fc-ws-acme-crash-a running'],
      'ws.acme-crash.b': ['/fc-ws-acme-crash-b running'],
      'ws.acme-crash.c': ['/fc-ws-acme-crash-c running'],
      'ws.acme-crash.d': ['/fc-ws-acme-crash-d running'],
      'ws.acme-crash.e': ['/fc-ws-acme-crash-e running'],
    });
    const last = `v${ROUNDS - 1}`;
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      const env = pm.podman(['inspect', '--format', '{{range .Config.Env}}{{println .}}{{end}}', `fc-ws-acme-crash-${name}`]).stdout;
      expect(env).toContain(`TAG=${last}`);
    }
    // One volume, never recreated: the file written before the crashes is still there.
    const vols = ((await docker.listVolumes()).Volumes ?? []).map((v) => v.Name);
    expect(vols).toEqual(['fc-ws-acme-crash-data']);
    expect(pm.podman(['exec', 'fc-ws-acme-crash-a', 'cat', '/data/sentinel']).stdout).toBe('precious\n');
    const log = pm.podman(['exec', 'fc-ws-acme-crash-a', 'cat', '/data/a']).stdout.split('\n').filter((l) => l !== '');
    expect(log[0]).toBe('init');
    expect(log[log.length - 1]).toBe(last);
  }, 300_000);
});

/**
 * The Podman API service restarted under a running agent: the agent's Podman socket is served by a
 * `podman system service` this test owns (over the private storage), SIGKILLed and started again. While
 * it is down the agent reports the runtime unreachable and changes nothing (the containers keep running,
 * as they do on a real node); once it is back, the agent reconverges, restarting a container stopped in
 * the meantime and recreating none.
 */
import { afterAll, beforeAll, expect, it, type TestContext } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeIf } from '../support/requires.js';
import { PODMAN_HOW, podmanAvailable, startPrivatePodman, TEST_IMAGE, waitForPing, type PrivatePodman } from '../support/podman.js';
import { commitRepo, initGitRepo, type RepoSpec } from '../agent/infra-fixture.js';
import { testAgent, type TestAgent } from '../agent/agent-harness.js';
import { containerSnapshot } from './containers.js';
import { stopProcess } from './procs.js';
import { happened, tried } from './record.js';

const NODE = 'rt-01';
const spec: RepoSpec = { node: NODE, templates: { s: [{ name: 'main', image: TEST_IMAGE, pullPolicy: 'Never', command: ['sleep', '600'] }] }, workspaces: { r1: { template: 's' }, r2: { template: 's' } } };

describeIf(podmanAvailable(), 'podman', PODMAN_HOW)('podman service restarted under a running agent', () => {
  let pm: PrivatePodman;
  let tmp: string;
  let agent: TestAgent;
  let service: ChildProcess | undefined;
  let socketPath: string;

  const startService = async (): Promise<void> => {
    service = spawn('podman', [...pm.flags, 'system', 'service', '--time=0', `unix://${socketPath}`], { env: pm.env, stdio: 'ignore' });
    await waitForPing(socketPath, 30_000);
  };

  beforeAll(async () => {
    pm = await startPrivatePodman();
    tmp = mkdtempSync(join(tmpdir(), 'fc-chaos-rt-'));
    socketPath = join(tmp, 'agent-podman.sock');
    await startService();
    const repo = join(tmp, 'repo');
    initGitRepo(repo);
    commitRepo(repo, spec, 'two workspaces');
    agent = testAgent({ ...pm, socketPath }, repo, NODE);
  });
  afterAll(async () => {
    if (service !== undefined) await stopProcess(service, 'SIGKILL');
    await pm?.stop();
    agent?.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('reports the runtime down while the service is gone, then reconverges without recreating anything', async (ctx: TestContext) => {
    tried(ctx, 'Podman API service restarted under a running agent', 'an agent converges 2 workspaces; its Podman API service is SIGKILLed, a container is stopped by hand (podman CLI) while it is down, the agent reconciles twice; then the service is started again and the agent reconciles');
    expect((await agent.reconciler.trigger('test')).converged).toBe(true);
    const before = await containerSnapshot(socketPath, NODE);

    await stopProcess(service!, 'SIGKILL');
    pm.podman(['stop', '-t', '0', 'fc-ws-r2-main']);
    const down = await agent.reconciler.trigger('test', { ignoreBackoff: true });
    const again = await agent.reconciler.trigger('test', { ignoreBackoff: true });
    const ready = down.status.conditions.find((c) => c.type === 'Ready');
    const err = down.status.errors[0];
    happened(ctx, `service down: converged=${down.converged}, Ready ${ready?.status}/${ready?.reason}, error ${err?.code} at ${err?.step}: "${err?.message.slice(0, 120)}"; r1 kept running: ${pm.podman(['inspect', '--format', '{{.State.Status}}', 'fc-ws-r1-main']).stdout.trim()}`);
    expect(down.converged).toBe(false);
    expect(again.converged).toBe(false);
    expect(err?.code).toBe('RUNTIME_UNAVAILABLE');
    expect(err?.message).toMatch(/container engine is not reachable/);
    expect(ready).toMatchObject({ status: 'False', reason: 'RuntimeUnavailable' });
    expect(err?.step).toBe('observe');
    expect(pm.podman(['inspect', '--format', '{{.State.Status}}', 'fc-ws-r1-main']).stdout.trim()).toBe('running');

    await startService();
    const back = await agent.reconciler.trigger('test', { ignoreBackoff: true });
    const after = await containerSnapshot(socketPath, NODE);
    happened(ctx, `service back: converged=${back.converged}; r2 restarted (${after['fc-ws-r2-main']?.split(' ')[2]}), no container recreated (same ids)`);
    expect(back.converged).toBe(true);
    expect(Object.keys(after)).toEqual(Object.keys(before));
    for (const name of Object.keys(before)) expect(after[name]?.split(' ')[0], name).toBe(before[name]?.split(' ')[0]);
    expect(after['fc-ws-r1-main']).toBe(before['fc-ws-r1-main']);
    expect(after['fc-ws-r2-main']).toMatch(/ running$/);
  });
});

/**
 * The Podman driver against a real, private Podman API service: every supported container field,
 * ownership, adoption after an interrupted create, pull policy, and never touching what is not ours.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import Docker from 'dockerode';
import { describeIf } from '../support/requires.js';
import { PODMAN_HOW, podmanAvailable, startPrivatePodman, TEST_IMAGE, type PrivatePodman } from '../support/podman.js';
import { repoOf } from '../support/infra-repo.js';
import { renderNodeState } from '../../agent/render.js';
import { planActions } from '../../agent/plan.js';
import { PodmanDriver } from '../../agent/drivers/podman/podman-driver.js';
import { compatCreateBody } from '../../agent/drivers/podman/container-body.js';
import type { DesiredContainer, DesiredState } from '../../agent/desired.js';
import { isFoundryError } from '../../common/errors.js';

const NODE = 'drv-01';

function desired(containers: Record<string, unknown>[], extra: Parameters<typeof repoOf>[0] = []): DesiredState {
  return renderNodeState(
    repoOf([
      { kind: 'NodeProfile', metadata: { name: 'gpu-node' }, spec: {} },
      { kind: 'Node', metadata: { name: NODE }, spec: { profile: 'gpu-node' } },
      // Plain volumes: encrypted ones have their own test (encrypted-volumes.test.ts).
      { kind: 'WorkspaceTemplate', metadata: { name: 't' }, spec: { containers, encryption: 'none' } },
      { kind: 'Workspace', metadata: { name: 'w1' }, spec: { tenant: 'acme', template: 't', node: NODE } },
      ...extra,
    ]),
    NODE,
  );
}

/** Applies every action of the plan; returns the errors by resource id. */
async function converge(driver: PodmanDriver, state: DesiredState): Promise<Record<string, string>> {
  const plan = planActions(state, await driver.list(NODE));
  const errors: Record<string, string> = {};
  for (const a of plan.actions) {
    try {
      await driver.apply(a);
    } catch (err) {
      errors[a.id] = isFoundryError(err) ? `${err.code}: ${err.message}` : String(err);
    }
  }
  return errors;
}

describeIf(podmanAvailable(), 'podman', PODMAN_HOW)('podman driver (real podman)', () => {
  let pm: PrivatePodman;
  let driver: PodmanDriver;
  let docker: Docker;

  beforeAll(async () => {
    pm = await startPrivatePodman();
    driver = new PodmanDriver({ socketPath: pm.socketPath, stopTimeoutS: 1 });
    docker = new Docker({ socketPath: pm.socketPath });
    // Waits for the Podman test lock while another file uses Podman: allow for that.
  }, 600_000);
  afterAll(async () => {
    await pm?.stop();
  });

  it('probes the engine', async () => {
    const probe = await driver.probe();
    expect(probe.available).toBe(true);
    expect(probe.message).toMatch(/^podman 4\.|^podman \d/);
  });

  it('creates a container with every supported field, and lists exactly what it owns', async () => {
    const state = desired([
      {
        name: 'web',
        image: TEST_IMAGE,
        pullPolicy: 'Never',
        command: ['sh', '-c'],
        args: ['echo $GREETING > /data/hello; exec httpd -f -p 8080 -h /www'],
        env: { GREETING: 'hi there' },
        ports: [{ containerPort: 8080, hostPort: 18731, hostIp: '127.0.0.1' }],
        volumes: [{ name: 'data', mountPath: '/data' }],
        resources: { cpus: 0.5, memory: '64Mi' },
        healthcheck: { command: ['true'], interval: '5s', timeout: '2s', retries: 2, startPeriod: '1s' },
        restartPolicy: 'on-failure',
        labels: { team: 'ml' },
        workingDir: '/tmp',
      },
    ]);
    expect(await converge(driver, state)).toEqual({});
    const observed = await driver.list(NODE);
    expect(observed.map((o) => `${o.kind} ${o.id} ${o.name} ${o.state}`).sort()).toEqual([
      'container ws.w1.web fc-ws-w1-web running',
      'network ws.w1.net fc-ws-w1 created',
      'volume ws.w1.vol.data fc-ws-w1-data created',
    ]);
    const web = state.resources.find((r) => r.id === 'ws.w1.web') as DesiredContainer;
    const obs = observed.find((o) => o.id === 'ws.w1.web');
    expect(obs?.specHash).toBe(web.specHash);
    expect(obs?.owner).toEqual({ node: NODE, workspace: 'w1', tenant: 'acme' });
    expect(obs?.facts.image).toBe(TEST_IMAGE);

    const info = await docker.getContainer('fc-ws-w1-web').inspect();
    expect(info.Config.Entrypoint).toEqual(['sh', '-c']);
    expect(info.Config.Cmd).toEqual(['echo $GREETING > /data/hello; exec httpd -f -p 8080 -h /www']);
    expect(info.Config.Env).toContain('GREETING=hi there');
    expect(info.Config.WorkingDir).toBe('/tmp');
    expect(info.Config.Labels.team).toBe('ml');
    expect(info.Config.Labels['foundry.cloud/workspace']).toBe('w1');
    expect(info.HostConfig.NanoCpus).toBe(500_000_000);
    expect(info.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(info.HostConfig.RestartPolicy?.Name).toBe('on-failure');
    expect(info.HostConfig.PortBindings).toEqual({ '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '18731' }] });
    expect(info.Config.Healthcheck).toMatchObject({ Test: ['CMD', 'true'], Interval: 5e9, Timeout: 2e9, Retries: 2 });
    expect(info.Mounts.map((m) => [m.Type, m.Name, m.Destination])).toEqual([['volume', 'fc-ws-w1-data', '/data']]);
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual(['fc-ws-w1']);
    expect(info.NetworkSettings.Networks['fc-ws-w1']?.Aliases).toContain('web');

    // The port is really published on the node.
    const body = await fetchText('http://127.0.0.1:18731/');
    expect(body).toBe('foundry test page\n');
    // A second pass has nothing to do.
    const again = planActions(state, await driver.list(NODE));
    expect(again.actions.filter((a) => a.type !== 'noop')).toEqual([]);
  });

  it('never lists or touches an unmanaged container, and refuses a name it does not own', async () => {
    pm.podman(['run', '-d', '--name', 'fc-ws-w1-intruder', TEST_IMAGE, 'sleep', '300']);
    pm.podman(['run', '-d', '--name', 'someone-else', '--label', 'foundry.cloud/managed-by=foundry-agent', '--label', `foundry.cloud/node=other-node`, '--label', 'foundry.cloud/id=ws.w1.x', TEST_IMAGE, 'sleep', '300']);
    const ids = (await driver.list(NODE)).map((o) => o.name);
    expect(ids).not.toContain('fc-ws-w1-intruder');
    expect(ids).not.toContain('someone-else');
    const state = desired([{ name: 'intruder', image: TEST_IMAGE, pullPolicy: 'Never', command: ['sleep', '300'] }]);
    const errors = await converge(driver, state);
    expect(errors['ws.w1.intruder']).toMatch(/^RUNTIME_ACTION: container fc-ws-w1-intruder already exists and is not managed by the agent/);
    // Plan for w1 without "web": the web container is pruned, the unmanaged ones are still running.
    expect(pm.podman(['inspect', '--format', '{{.State.Status}}', 'fc-ws-w1-intruder', 'someone-else']).stdout.trim().split('\n')).toEqual(['running', 'running']);
    pm.podman(['rm', '-f', '-t', '0', 'fc-ws-w1-intruder', 'someone-else']);
  });

  it('adopts a container left half-created by an interrupted run instead of duplicating it', async () => {
    const state = desired([{ name: 'half', image: TEST_IMAGE, pullPolicy: 'Never', command: ['sleep', '300'] }]);
    const half = state.resources.find((r) => r.id === 'ws.w1.half') as DesiredContainer;
    // Created but never started, exactly what a kill -9 between create and start leaves.
    // Through dockerode, an engine client independent of the driver's own.
    await docker.createContainer(compatCreateBody(half, { cdiViaDeviceRequests: false }) as Docker.ContainerCreateOptions);
    await driver.apply({ type: 'create', kind: 'container', id: half.id, key: half.id, reason: 'test', desired: half, observed: undefined, phase: 2 });
    const all = await docker.listContainers({ all: true, filters: { name: ['fc-ws-w1-half'] } });
    expect(all.map((c) => c.State)).toEqual(['running']);
  });

  it('reports a missing image with pullPolicy Never, and an unpullable one with IfNotPresent, as IMAGE_MISSING', async () => {
    const never = desired([{ name: 'ghost', image: 'localhost/does-not-exist:1', pullPolicy: 'Never' }]);
    const errNever = await converge(driver, never);
    expect(errNever['ws.w1.ghost']).toBe('IMAGE_MISSING: image localhost/does-not-exist:1 is not present on the node and pullPolicy is Never (load it with podman load/import)');
    const ifNot = desired([{ name: 'ghost', image: 'registry.invalid/nope:1' }]);
    const errIf = await converge(driver, ifNot);
    expect(errIf['ws.w1.ghost']).toMatch(/^IMAGE_MISSING: image registry\.invalid\/nope:1 could not be pulled: .+ and is not present on the node$/);
  });

  it('runs a service container on the host network, privileged, as another user, without restart', async () => {
    const state = desired([], [
      { kind: 'Service', metadata: { name: 'probe' }, spec: { placement: { node: NODE }, containers: [{ name: 'agent', image: TEST_IMAGE, pullPolicy: 'Never', command: ['sleep', '300'], hostNetwork: true, privileged: true, user: '65534', restartPolicy: 'no' }] } },
    ]);
    expect(await converge(driver, state)).toEqual({});
    const info = await docker.getContainer('fc-svc-probe-agent').inspect();
    expect(info.HostConfig.NetworkMode).toBe('host');
    expect(info.HostConfig.Privileged).toBe(true);
    expect(info.Config.User).toBe('65534');
    expect(['', 'no']).toContain(info.HostConfig.RestartPolicy?.Name);
    expect(pm.podman(['exec', 'fc-svc-probe-agent', 'id', '-u']).stdout.trim()).toBe('65534');
    // No network of its own: nothing for the service but the container.
    expect((await driver.list(NODE)).filter((o) => o.owner.service === 'probe').map((o) => o.kind)).toEqual(['container']);
  });

  it('recreates on a spec change and the volume keeps its data', async () => {
    const v1 = desired([{ name: 'db', image: TEST_IMAGE, pullPolicy: 'Never', command: ['sh', '-c', 'echo v1 >> /data/log; sleep 300'], volumes: [{ name: 'state', mountPath: '/data' }] }]);
    expect(await converge(driver, v1)).toEqual({});
    const v2 = desired([{ name: 'db', image: TEST_IMAGE, pullPolicy: 'Never', command: ['sh', '-c', 'echo v2 >> /data/log; sleep 300'], volumes: [{ name: 'state', mountPath: '/data' }] }]);
    const plan = planActions(v2, await driver.list(NODE));
    expect(plan.actions.filter((a) => a.type === 'recreate').map((a) => a.id)).toEqual(['ws.w1.db']);
    expect(await converge(driver, v2)).toEqual({});
    await waitFor(() => pm.podman(['exec', 'fc-ws-w1-db', 'cat', '/data/log'], { allowFail: true }).stdout === 'v1\nv2\n');
  });
});

async function fetchText(url: string): Promise<string> {
  for (let i = 0; ; i++) {
    try {
      const r = await fetch(url);
      return await r.text();
    } catch (err) {
      if (i > 50) throw err;
      await new Promise((res) => setTimeout(res, 100));
    }
  }
}

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((res) => setTimeout(res, 100));
  }
}

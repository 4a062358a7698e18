/**
 * The GPU device path for real: a workspace's GPUs become CDI devices (nvidia.com/gpu=<uuid>), which
 * Podman resolves from a CDI spec. No GPU here, so the test CDI specs map the device names to a harmless
 * device node (/dev/null) under another path; the container must see it. Podman 4.3 reads CDI specs only
 * from /etc/cdi and /var/run/cdi (containers.conf cdi_spec_dirs came in 4.4), so the specs go to
 * /var/run/cdi for the duration of the test.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import Docker from 'dockerode';
import { describeIf } from '../support/requires.js';
import { PODMAN_HOW, podmanAvailable, startPrivatePodman, TEST_IMAGE, type PrivatePodman } from '../support/podman.js';
import { repoOf } from '../support/infra-repo.js';
import { renderNodeState } from '../../agent/render.js';
import { planActions } from '../../agent/plan.js';
import { PodmanDriver } from '../../agent/drivers/podman/podman-driver.js';

const NODE = 'gpu-test-01';
const GPU = 'GPU-f00df00d-0000-4000-8000-000000000001';
const CDI_DIR = '/var/run/cdi';
const SPECS = {
  'foundry-test-gpu.json': { cdiVersion: '0.3.0', kind: 'foundry.test/gpu', devices: [{ name: 'gpu0', containerEdits: { deviceNodes: [{ path: '/dev/fake-gpu0', hostPath: '/dev/null' }], env: ['FAKE_GPU=gpu0'] } }] },
  'foundry-test-nvidia.json': { cdiVersion: '0.3.0', kind: 'nvidia.com/gpu', devices: [{ name: GPU, containerEdits: { deviceNodes: [{ path: '/dev/fake-nvidia0', hostPath: '/dev/null' }], env: [`FAKE_NVIDIA=${GPU}`] } }] },
};

describeIf(podmanAvailable(), 'podman', PODMAN_HOW)('CDI devices (real podman, test CDI specs)', () => {
  let pm: PrivatePodman;
  let driver: PodmanDriver;

  beforeAll(async () => {
    mkdirSync(CDI_DIR, { recursive: true });
    for (const [file, spec] of Object.entries(SPECS)) writeFileSync(`${CDI_DIR}/${file}`, JSON.stringify(spec));
    pm = await startPrivatePodman();
    driver = new PodmanDriver({ socketPath: pm.socketPath, stopTimeoutS: 1 });
    // Waits for the Podman test lock while another file uses Podman: allow for that.
  }, 600_000);
  afterAll(async () => {
    await pm?.stop();
    for (const file of Object.keys(SPECS)) rmSync(`${CDI_DIR}/${file}`, { force: true });
  });

  it("gives a workspace container its GPU (gpus: true) and extra CDI devices, with every other field intact", async () => {
    const state = renderNodeState(
      repoOf([
        { kind: 'NodeProfile', metadata: { name: 'gpu-node' }, spec: {} },
        { kind: 'Node', metadata: { name: NODE }, spec: { profile: 'gpu-node', gpus: [{ uuid: GPU, model: 'NVIDIA H100 80GB HBM3' }] } },
        {
          kind: 'WorkspaceTemplate',
          metadata: { name: 'gpu' },
          spec: {
            encryption: 'none',
            containers: [
              {
                name: 'llm',
                image: TEST_IMAGE,
                pullPolicy: 'Never',
                gpus: true,
                devices: ['foundry.test/gpu=gpu0'],
                command: ['sh', '-c'],
                args: ['exec httpd -f -p 8080 -h /www'],
                env: { MODEL: 'tiny' },
                ports: [{ containerPort: 8080, hostPort: 18732, hostIp: '127.0.0.1' }],
                volumes: [{ name: 'models', mountPath: '/models' }],
                resources: { cpus: 1, memory: '32Mi' },
                healthcheck: { command: ['true'], interval: '10s' },
                labels: { purpose: 'cdi' },
              },
            ],
          },
        },
        { kind: 'Workspace', metadata: { name: 'ml' }, spec: { tenant: 'acme', template: 'gpu', node: NODE, gpus: { count: 1, uuids: [GPU] } } },
      ]),
      NODE,
    );
    const plan = planActions(state, await driver.list(NODE));
    for (const a of plan.actions) await driver.apply(a);

    const ls = pm.podman(['exec', 'fc-ws-ml-llm', 'ls', '/dev/fake-nvidia0', '/dev/fake-gpu0']);
    expect(ls.stdout).toBe('/dev/fake-gpu0\n/dev/fake-nvidia0\n');
    // CDI env edits reach the container's main process (exec sessions do not get them).
    const env = pm.podman(['exec', 'fc-ws-ml-llm', 'sh', '-c', "tr '\\0' '\\n' < /proc/1/environ | grep -E '^(FAKE_|MODEL=)' | sort"]);
    expect(env.stdout).toBe(`FAKE_GPU=gpu0\nFAKE_NVIDIA=${GPU}\nMODEL=tiny\n`);

    const info = await new Docker({ socketPath: pm.socketPath }).getContainer('fc-ws-ml-llm').inspect();
    expect(info.Config.Labels.purpose).toBe('cdi');
    expect(info.Config.Labels['foundry.cloud/id']).toBe('ws.ml.llm');
    expect(info.HostConfig.Memory).toBe(32 * 1024 * 1024);
    expect(info.HostConfig.NanoCpus).toBe(1_000_000_000);
    expect(info.HostConfig.RestartPolicy?.Name).toBe('always');
    expect(info.Config.Healthcheck).toMatchObject({ Test: ['CMD', 'true'], Interval: 10e9 });
    expect(info.Mounts.map((m) => [m.Type, m.Name, m.Destination])).toEqual([['volume', 'fc-ws-ml-models', '/models']]);
    expect(info.NetworkSettings.Networks['fc-ws-ml']?.Aliases).toContain('llm');
    expect(await (await fetch('http://127.0.0.1:18732/')).text()).toBe('foundry test page\n');

    // Created through the libpod endpoint, observed through the compat one like any other container.
    const observed = await driver.list(NODE);
    const llm = observed.find((o) => o.id === 'ws.ml.llm');
    expect(llm?.state).toBe('running');
    expect(planActions(state, observed).actions.filter((a) => a.type !== 'noop')).toEqual([]);
  });
});

// Attribution against real Podman containers: their real /proc/<pid>/cgroup and their real labels, with a
// synthetic PID-to-GPU table (there is no GPU here). A private Podman (test/support/podman.ts), the local test image, no network.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { describeIf } from '../support/requires.js';
import { PODMAN_HOW, TEST_IMAGE, podmanAvailable, startPrivatePodman, type PrivatePodman } from '../support/podman.js';
import { attributeProcesses, attributeGpus, type ContainerLabelsLookup } from '../../agent/gpu/attribution.js';
import { containerFromCgroup } from '../../agent/gpu/cgroup.js';
import { podmanLabelsLookup } from '../../agent/gpu/podman-labels.js';
import { LABELS, MANAGED_BY } from '../../agent/labels.js';

const GPU = 'GPU-00000000-0000-0000-0000-000000000000';

let pm: PrivatePodman | undefined;
const podman = (...args: string[]): string => {
  if (pm === undefined) throw new Error('private podman not started');
  return pm.podman(args).stdout.trim();
};

describeIf(podmanAvailable(), 'podman', PODMAN_HOW)('gpu attribution with real podman containers', () => {
  const ids: Record<string, string> = {};
  const pids: Record<string, number> = {};

  beforeAll(async () => {
    pm = await startPrivatePodman();
    const ours = ['--label', `${LABELS.managedBy}=${MANAGED_BY}`, '--label', `${LABELS.node}=gpu-01`];
    ids.alice = podman('run', '-d', '--network', 'none', ...ours, '--label', `${LABELS.workspace}=alice`, '--label', `${LABELS.tenant}=acme`, TEST_IMAGE, 'sleep', '600');
    ids.foreign = podman('run', '-d', '--network', 'none', '--label', 'io.example/owner=someone', TEST_IMAGE, 'sleep', '600');
    ids.pod = podman('pod', 'create', '--name', 'fc-gpu-pod', '--network', 'none');
    ids.bob = podman('run', '-d', '--pod', 'fc-gpu-pod', ...ours, '--label', `${LABELS.workspace}=bob`, '--label', `${LABELS.tenant}=beta`, TEST_IMAGE, 'sleep', '600');
    for (const k of ['alice', 'foreign', 'bob']) pids[k] = Number(podman('inspect', '--format', '{{.State.Pid}}', ids[k] as string));
    pids.conmon = Number(podman('inspect', '--format', '{{.State.ConmonPid}}', ids.alice as string));
  }, 120_000);

  afterAll(async () => {
    await pm?.stop();
  }, 60_000);

  // Labels through the podman CLI, as a stand-in for the Podman driver's lookup.
  const cliLabels: ContainerLabelsLookup = async (id) => {
    try {
      return JSON.parse(podman('inspect', '--format', '{{json .Config.Labels}}', id)) as Record<string, string>;
    } catch {
      return undefined;
    }
  };

  it('reads the container id from the real cgroup file of each container process', () => {
    expect(containerFromCgroup(readFileSync(`/proc/${pids.alice}/cgroup`, 'utf8'))?.containerId).toBe(ids.alice);
    const pod = containerFromCgroup(readFileSync(`/proc/${pids.bob}/cgroup`, 'utf8'));
    expect(pod).toEqual({ containerId: ids.bob, podId: ids.pod });
    expect(containerFromCgroup(readFileSync(`/proc/${pids.conmon}/cgroup`, 'utf8'))).toBeUndefined();
  });

  it('attributes GPU processes to workspace and tenant, and keeps the others as unattributed', async () => {
    const procs = [pids.alice, pids.bob, pids.foreign, pids.conmon, process.pid].map((pid) => ({ pid: pid as number, gpuUuid: GPU, name: null, usedMemoryMiB: 100 }));
    const out = await attributeProcesses(procs, { labelsOf: cliLabels });
    expect(out.map((p) => p.attribution)).toEqual([
      { kind: 'workspace', workspace: 'alice', tenant: 'acme', containerId: ids.alice },
      { kind: 'workspace', workspace: 'bob', tenant: 'beta', containerId: ids.bob, podId: ids.pod },
      { kind: 'container', containerId: ids.foreign, reason: 'container not managed by foundry' },
      { kind: 'unattributed', reason: 'host process, not in a container' },
      { kind: 'unattributed', reason: 'host process, not in a container' },
    ]);
    expect(attributeGpus([{ uuid: GPU, pciBusId: '0000:00:09.0' }], out)[0]?.holders.map((h) => h.workspace ?? h.reason)).toEqual(['alice', 'bob', 'container not managed by foundry', 'host process, not in a container']);
  });

  it('looks labels up over the Podman API socket, as `foundry agent gpus` does', async () => {
    const lookup = podmanLabelsLookup((pm as PrivatePodman).socketPath);
    const labels = await lookup(ids.alice as string);
    expect(labels?.[LABELS.workspace]).toBe('alice');
    expect(await lookup('f'.repeat(64))).toBeUndefined();
    const [p] = await attributeProcesses([{ pid: pids.alice as number, gpuUuid: GPU, name: null, usedMemoryMiB: 1 }], { labelsOf: lookup });
    expect(p?.attribution).toEqual({ kind: 'workspace', workspace: 'alice', tenant: 'acme', containerId: ids.alice });
  });
});

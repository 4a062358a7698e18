import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerFromCgroup } from './cgroup.js';
import { attributeGpus, attributeProcesses, type AttributedProcess } from './attribution.js';
import { LABELS, MANAGED_BY } from '../labels.js';

const ID = 'b3953eda0305aba3f89645ec3dfe052fc08adc7c96a1214277981424469ffc9f';
const POD = '25e0a78584bb936fd5a5126c8456fe9517d38c4495c1c1521872979eda37964c';
const ID2 = '916ac1060deed0b36a7067c4ac1df580026d3d1f13251f9abe8abbd89f97e7a3';
const GPU = 'GPU-00000000-0000-0000-0000-000000000000';

// One /proc/<pid>/cgroup per layout Podman produces.
const LAYOUTS: Record<string, { text: string; containerId?: string; podId?: string }> = {
  'rootful, cgroup v2, systemd': { text: `0::/machine.slice/libpod-${ID}.scope\n`, containerId: ID },
  'rootful, cgroup v2, nested container cgroup': { text: `0::/machine.slice/libpod-${ID}.scope/container\n`, containerId: ID },
  'rootful, cgroup v1, systemd': { text: `12:pids:/machine.slice/libpod-${ID}.scope\n4:memory:/machine.slice/libpod-${ID}.scope\n1:name=systemd:/machine.slice/libpod-${ID}.scope\n`, containerId: ID },
  'rootless, cgroup v2': { text: `0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope\n`, containerId: ID },
  'pod, systemd': { text: `0::/machine.slice/machine-libpod_pod_${POD}.slice/libpod-${ID2}.scope\n`, containerId: ID2, podId: POD },
  'rootless pod, systemd': { text: `0::/user.slice/user-1000.slice/user@1000.service/user.slice/user-libpod_pod_${POD}.slice/libpod-${ID2}.scope\n`, containerId: ID2, podId: POD },
  'cgroupfs v1 (this host)': { text: `9:name=systemd:/libpod_parent/libpod-${ID}\n4:memory:/libpod_parent/libpod-${ID}\n0::/libpod_parent/libpod-${ID}\n`, containerId: ID },
  'cgroupfs pod': { text: `8:pids:/libpod_parent/${POD}/libpod-${ID2}\n0::/libpod_parent/${POD}/libpod-${ID2}\n`, containerId: ID2, podId: POD },
  'conmon scope, systemd': { text: `0::/machine.slice/libpod-conmon-${ID}.scope\n` },
  'conmon, cgroupfs': { text: `9:name=systemd:/\n8:pids:/libpod_parent/conmon\n` },
  'host process': { text: '0::/user.slice/user-1000.slice/session-2.scope\n' },
  'docker container': { text: `0::/system.slice/docker-${ID}.scope\n` },
};

describe('containerFromCgroup', () => {
  for (const [name, l] of Object.entries(LAYOUTS)) {
    it(name, () => {
      const got = containerFromCgroup(l.text);
      if (l.containerId === undefined) expect(got).toBeUndefined();
      else expect(got).toEqual({ containerId: l.containerId, podId: l.podId });
    });
  }
});

describe('attributeProcesses with a synthetic /proc', () => {
  const root = mkdtempSync(join(tmpdir(), 'fc-proc-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const proc = (pid: number, text: string): void => {
    mkdirSync(join(root, String(pid)));
    writeFileSync(join(root, String(pid), 'cgroup'), text);
  };
  const OTHER = 'c'.repeat(64);
  const SVC = 'd'.repeat(64);
  const GONE = 'e'.repeat(64);
  proc(100, LAYOUTS['rootful, cgroup v2, systemd']!.text);
  proc(101, LAYOUTS['cgroupfs v1 (this host)']!.text); // same container as 100: one lookup
  proc(102, LAYOUTS['pod, systemd']!.text);
  proc(103, LAYOUTS['host process']!.text);
  proc(104, `0::/machine.slice/libpod-${OTHER}.scope\n`);
  proc(105, `0::/machine.slice/libpod-${SVC}.scope\n`);
  proc(106, `0::/machine.slice/libpod-${GONE}.scope\n`);
  const ours = { [LABELS.managedBy]: MANAGED_BY, [LABELS.node]: 'gpu-01' };
  const labels: Record<string, Record<string, string>> = {
    [ID]: { ...ours, [LABELS.workspace]: 'alice', [LABELS.tenant]: 'acme' },
    [ID2]: { ...ours, [LABELS.workspace]: 'bob', [LABELS.tenant]: 'beta' },
    [OTHER]: { 'io.example': 'x' },
    [SVC]: { ...ours, [LABELS.service]: 'searxng' },
  };
  const lookups: string[] = [];
  const labelsOf = async (id: string): Promise<Record<string, string> | undefined> => { lookups.push(id); return labels[id]; };
  const procs = [100, 101, 102, 103, 104, 105, 106, 999].map((pid) => ({ pid, gpuUuid: GPU, name: `p${pid}`, usedMemoryMiB: 10 }));

  it('maps every layout to the workspace and tenant, and keeps the rest as unattributed', async () => {
    const out = await attributeProcesses(procs, { procRoot: root, labelsOf });
    expect(out.map((p) => [p.pid, p.attribution])).toEqual([
      [100, { kind: 'workspace', workspace: 'alice', tenant: 'acme', containerId: ID }],
      [101, { kind: 'workspace', workspace: 'alice', tenant: 'acme', containerId: ID }],
      [102, { kind: 'workspace', workspace: 'bob', tenant: 'beta', containerId: ID2, podId: POD }],
      [103, { kind: 'unattributed', reason: 'host process, not in a container' }],
      [104, { kind: 'container', containerId: OTHER, reason: 'container not managed by foundry' }],
      [105, { kind: 'service', service: 'searxng', containerId: SVC }],
      [106, { kind: 'unattributed', containerId: GONE, reason: 'container not found' }],
      [999, { kind: 'unattributed', reason: 'process exited' }],
    ]);
    expect(lookups.filter((id) => id === ID)).toHaveLength(1);
  });

  it('says podman is unavailable when there is no label lookup, and reports lookup failures', async () => {
    const none = await attributeProcesses(procs.slice(0, 1), { procRoot: root });
    expect(none[0]?.attribution).toEqual({ kind: 'unattributed', containerId: ID, reason: 'podman unavailable' });
    const failing = await attributeProcesses(procs.slice(0, 1), { procRoot: root, labelsOf: async () => { throw new Error('connect ENOENT /run/podman.sock'); } });
    expect(failing[0]?.attribution).toEqual({ kind: 'unattributed', containerId: ID, reason: 'container lookup failed: connect enoent /run/podman.sock' });
  });
});

describe('attributeGpus', () => {
  it('attributes VM passthrough GPUs by PCI address and container GPUs by their processes', () => {
    const procs: AttributedProcess[] = [
      { pid: 1, gpuUuid: GPU, name: 'a', usedMemoryMiB: 1, attribution: { kind: 'workspace', workspace: 'alice', tenant: 'acme', containerId: ID } },
      { pid: 2, gpuUuid: GPU, name: 'b', usedMemoryMiB: 1, attribution: { kind: 'workspace', workspace: 'alice', tenant: 'acme', containerId: ID } },
      { pid: 3, gpuUuid: GPU, name: 'c', usedMemoryMiB: 1, attribution: { kind: 'unattributed', reason: 'host process, not in a container' } },
    ];
    const gpus = [{ uuid: GPU, pciBusId: '0000:00:09.0' }, { uuid: 'GPU-1', pciBusId: '0000:41:00.0' }];
    expect(attributeGpus(gpus, procs, { '00000000:41:00.0': { workspace: 'desk', tenant: 'acme' }, '0000:C1:00.0': { workspace: 'vm2' } })).toEqual([
      { uuid: GPU, pciBusId: '0000:00:09.0', holders: [procs[0]!.attribution, procs[2]!.attribution] },
      { uuid: 'GPU-1', pciBusId: '0000:41:00.0', holders: [{ kind: 'vm', workspace: 'desk', tenant: 'acme', pciBusId: '0000:41:00.0' }] },
      { uuid: null, pciBusId: '0000:c1:00.0', holders: [{ kind: 'vm', workspace: 'vm2', pciBusId: '0000:c1:00.0' }] },
    ]);
  });
});

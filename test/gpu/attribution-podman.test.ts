// Attribution against real Podman containers: their real /proc/<pid>/cgroup and their real labels, with a
// synthetic PID-to-GPU table (there is no GPU here). Private storage, its own image, no network.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describeIf, commandWorks } from '../support/requires.js';
import { attributeProcesses, attributeGpus, type ContainerLabelsLookup } from '../../agent/gpu/attribution.js';
import { containerFromCgroup } from '../../agent/gpu/cgroup.js';
import { podmanLabelsLookup } from '../../agent/gpu/podman-labels.js';
import { LABELS, MANAGED_BY } from '../../agent/labels.js';

const run = promisify(execFile);
const IMAGE = 'localhost/fc-gpu-test:1';
const GPU = 'GPU-00000000-0000-0000-0000-000000000000';
const available = process.getuid?.() === 0 && commandWorks('podman') && commandWorks('runc') && existsSync('/bin/busybox');

let dir = '';
let env: NodeJS.ProcessEnv = {};
let flags: string[] = [];
let service: ChildProcess | undefined;
const podman = async (...args: string[]): Promise<string> => (await run('podman', [...flags, ...args], { env, timeout: 60_000 })).stdout.trim();

describeIf(available, 'podman', 'run as root with podman, runc and busybox-static (apt-get install -y podman runc busybox-static; scripts/host-setup.sh)')('gpu attribution with real podman containers', () => {
  const ids: Record<string, string> = {};
  const pids: Record<string, number> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fc-gpu-podman-'));
    for (const d of ['root', 'runroot', 'tmp', 'img/bin']) mkdirSync(join(dir, d), { recursive: true });
    copyFileSync('/bin/busybox', join(dir, 'img/bin/busybox'));
    for (const tool of ['sh', 'sleep']) symlinkSync('busybox', join(dir, 'img/bin', tool));
    writeFileSync(join(dir, 'containers.conf'), `[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\ntmp_dir = "${join(dir, 'tmp')}"\nevents_logger = "file"\n`);
    env = { ...process.env, CONTAINERS_CONF: join(dir, 'containers.conf') };
    flags = ['--root', join(dir, 'root'), '--runroot', join(dir, 'runroot')];
    const tar = spawnSync('tar', ['-C', join(dir, 'img'), '-cf', join(dir, 'img.tar'), '.']);
    expect(tar.status).toBe(0);
    await podman('import', '--change', 'ENV PATH=/bin', join(dir, 'img.tar'), IMAGE);
    const ours = ['--label', `${LABELS.managedBy}=${MANAGED_BY}`, '--label', `${LABELS.node}=gpu-01`];
    ids.alice = await podman('run', '-d', '--network', 'none', ...ours, '--label', `${LABELS.workspace}=alice`, '--label', `${LABELS.tenant}=acme`, IMAGE, 'sleep', '600');
    ids.foreign = await podman('run', '-d', '--network', 'none', '--label', 'io.example/owner=someone', IMAGE, 'sleep', '600');
    ids.pod = await podman('pod', 'create', '--name', 'fc-gpu-pod', '--network', 'none');
    ids.bob = await podman('run', '-d', '--pod', 'fc-gpu-pod', ...ours, '--label', `${LABELS.workspace}=bob`, '--label', `${LABELS.tenant}=beta`, IMAGE, 'sleep', '600');
    for (const k of ['alice', 'foreign', 'bob']) pids[k] = Number(await podman('inspect', '--format', '{{.State.Pid}}', ids[k] as string));
    pids.conmon = Number(await podman('inspect', '--format', '{{.State.ConmonPid}}', ids.alice as string));
  });

  afterAll(async () => {
    if (service !== undefined) service.kill('SIGKILL');
    if (flags.length > 0) {
      await podman('pod', 'rm', '--force', '--all').catch(() => undefined);
      await podman('rm', '--force', '--all', '--time', '0').catch(() => undefined);
    }
    if (dir !== '') {
      // Podman's overlay driver bind-mounts its storage dir onto itself; unmount before deleting.
      const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(`${dir}/`));
      for (const m of mounts.reverse()) spawnSync('umount', [m]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Labels through the podman CLI, as a stand-in for the Podman driver's lookup.
  const cliLabels: ContainerLabelsLookup = async (id) => {
    try {
      return JSON.parse(await podman('inspect', '--format', '{{json .Config.Labels}}', id)) as Record<string, string>;
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

  it('looks labels up over the Podman API socket (dockerode), as `foundry agent gpus` does', async () => {
    const socketPath = join(dir, 'podman.sock');
    service = spawn('podman', [...flags, 'system', 'service', '--time=0', `unix://${socketPath}`], { env, stdio: 'ignore' });
    const lookup = podmanLabelsLookup(socketPath);
    let labels: Record<string, string> | undefined;
    for (let i = 0; i < 150 && labels === undefined; i++) {
      labels = await lookup(ids.alice as string).catch(() => undefined);
      if (labels === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    expect(labels?.[LABELS.workspace]).toBe('alice');
    expect(await lookup('f'.repeat(64))).toBeUndefined();
    const [p] = await attributeProcesses([{ pid: pids.alice as number, gpuUuid: GPU, name: null, usedMemoryMiB: 1 }], { labelsOf: lookup });
    expect(p?.attribution).toEqual({ kind: 'workspace', workspace: 'alice', tenant: 'acme', containerId: ids.alice });
  });
});

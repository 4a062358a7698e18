/** The template policy: a workspace template cannot take GPUs, devices, PCI devices or host files it does not pay for. */
import { describe, expect, it } from 'vitest';
import { baseImageProblem, isGpuDevice } from '../../common/infra/template-policy.js';
import { doc, repoIssues } from './temp-repo.js';

const issuesOf = repoIssues();

const template = (lines: string[]): string => doc('WorkspaceTemplate', 'stack', lines);
const vmTemplate = (vmLines: string[]): string => template(['  vm:', '    name: desk', '    driver: libvirt', '    memory: 4Gi', ...vmLines]);

describe('template policy', () => {
  it('refuses GPU devices in a template, whatever the vendor or class, and names the line', async () => {
    const devices = ['nvidia.com/gpu=all', 'nvidia.com/mig=0:1', 'amd.com/gpu=card0', 'vendor.example/gpu=0'];
    const issues = await issuesOf({ 'templates/stack.yaml': template(['  containers:', '    - name: web', '      image: docker.io/library/nginx:1.27.3', `      devices: [${devices.join(', ')}]`]) });
    expect(issues).toEqual(devices.map((d, k) => `templates/stack.yaml:9:${[17, 37, 57, 76][k]}: spec.containers[0].devices[${k}]: device ${d} is a GPU: a workspace template gets GPUs only through gpus: true (the GPUs the workspace holds and pays for)`));
  });

  it('refuses device paths in devices (the schema takes CDI names only), also spelled sneakily', async () => {
    const issues = await issuesOf({ 'templates/stack.yaml': template(['  containers:', '    - name: web', '      image: docker.io/library/nginx:1.27.3', '      devices: [/dev/../dev/nvidia0]']) });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^templates\/stack\.yaml:9:17: spec\.containers\[0\]\.devices\[0\]: invalid value "\/dev\/\.\.\/dev\/nvidia0": expected/);
    for (const d of ['/dev/nvidia0', '/dev/../dev/nvidia0', '/dev//nvidiactl', '/dev/dri/renderD128', '/dev/dri/card0', '/dev/./kfd', 'NVIDIA.com/gpu=0']) expect(isGpuDevice(d), d).toBe(true);
    for (const d of ['/dev/null', '/dev/fuse', 'example.com/fpga=0']) expect(isGpuDevice(d), d).toBe(false);
  });

  it('allows other CDI devices in templates only when the Cluster lists them; services keep theirs', async () => {
    const withDevice = template(['  containers:', '    - name: web', '      image: docker.io/library/nginx:1.27.3', '      devices: [example.com/fpga=0]']);
    expect(await issuesOf({ 'templates/stack.yaml': withDevice })).toEqual([
      'templates/stack.yaml:9:17: spec.containers[0].devices[0]: device example.com/fpga=0 is not allowed in a workspace template: expected no devices (Cluster spec.templateDevices is empty)',
    ]);
    const cluster = doc('Cluster', 'main', ['  hubUrl: https://hub.example.eu', '  templateDevices: [example.com/fpga=0, nvidia.com/gpu=all]']);
    expect(await issuesOf({ 'templates/stack.yaml': withDevice, 'cluster.yaml': cluster })).toEqual([]);
    // Listing a GPU in templateDevices does not make it allowed.
    const gpu = template(['  containers:', '    - name: web', '      image: docker.io/library/nginx:1.27.3', '      devices: [nvidia.com/gpu=all]']);
    expect(await issuesOf({ 'templates/stack.yaml': gpu, 'cluster.yaml': cluster })).toHaveLength(1);
    const service = doc('Service', 'exporter', ['  placement: { node: gpu-01 }', '  containers:', '    - name: dcgm', '      image: docker.io/library/busybox:1.37.0', '      devices: [nvidia.com/gpu=all]']);
    expect(await issuesOf({ 'services/exporter.yaml': service })).toEqual([]);
  });

  it('refuses VM base images outside the image directory, with file:line', async () => {
    const at = (img: string) => issuesOf({ 'templates/stack.yaml': vmTemplate(['    disk:', `      baseImage: ${img}`]) });
    expect(await at('/etc/shadow')).toEqual(['templates/stack.yaml:11:18: spec.vm.disk.baseImage: base image /etc/shadow is outside the image directory: expected a file name in /var/lib/foundry/images (Cluster spec.vmImageDir) or a path inside it']);
    expect(await at('/var/lib/foundry/images/../../../etc/shadow')).toHaveLength(1);
    expect(await at('"../shadow"')).toHaveLength(1);
    expect(await at('ubuntu-24.04.qcow2')).toEqual([]);
    expect(await at('/var/lib/foundry/images/ubuntu-24.04.qcow2')).toEqual([]);
    expect(baseImageProblem('a/../b.qcow2', '/img')).toContain('not a plain file name');
    expect(baseImageProblem('/img/sub/b.qcow2', '/img/')).toBeUndefined();
    expect(baseImageProblem('/images-other/b.qcow2', '/images')).toContain('outside');
  });

  it('passes through only PCI devices the node allows, never its GPUs', async () => {
    const node = doc('Node', 'gpu-01', [
      '  profile: gpu-node',
      '  allowedHostDevices: ["0000:65:00.0"]',
      '  gpus:',
      '    - { uuid: GPU-aaaaaaaa-0000-0000-0000-000000000001, model: NVIDIA H100 80GB HBM3, pciAddress: "0000:17:00.0" }',
      '    - { uuid: GPU-aaaaaaaa-0000-0000-0000-000000000002, model: NVIDIA H100 80GB HBM3, pciAddress: "0000:18:00.0" }',
    ]);
    const vm = (addr: string) => vmTemplate(['    disk: { baseImage: ubuntu.qcow2 }', `    hostDevices: ["${addr}"]`]);
    expect(await issuesOf({ 'nodes/gpu-01.yaml': node, 'templates/stack.yaml': vm('0000:65:00.0') })).toEqual([]);
    expect(await issuesOf({ 'nodes/gpu-01.yaml': node, 'templates/stack.yaml': vm('0000:18:00.0') })).toEqual([
      'templates/stack.yaml:11:19: spec.vm.hostDevices[0]: PCI device 0000:18:00.0 is a GPU of node gpu-01: a workspace gets GPUs only through vm.gpus: true (the GPUs it holds and pays for)',
    ]);
    expect(await issuesOf({ 'nodes/gpu-01.yaml': node, 'templates/stack.yaml': vm('0000:3b:00.0') })).toEqual([
      'templates/stack.yaml:11:19: spec.vm.hostDevices[0]: PCI device 0000:3b:00.0 is not allowed on node gpu-01 (workspace alice): expected one of 0000:65:00.0 (Node spec.allowedHostDevices)',
    ]);
  });
});

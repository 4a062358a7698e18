/**
 * What a workspace template may take from its node beyond what the workspace pays for. Devices: no GPU in
 * `devices` (only `gpus: true` hands out the workspace's own GPUs), other CDI devices only when the Cluster
 * lists them in spec.templateDevices. VMs: PCI passthrough (`hostDevices`) only of devices the node lists in
 * spec.allowedHostDevices and never one of its GPUs; host paths read-only (shared by every tenant); base
 * images only from the image directory, for every VM (templates and services). Services and profiles are written by admins and may name any device.
 */
import { posix } from 'node:path';
import { issueAt, oneOf } from './issue-at.js';
import type { InfraIssue, InfraRepo, Located, PathSegment, Service, Vm, WorkspaceTemplate } from './model.js';
import type { LoadedDoc } from './parse-docs.js';

/** Default folder of VM base images on the nodes (Cluster spec.vmImageDir). */
export const DEFAULT_VM_IMAGE_DIR = '/var/lib/foundry/images';

/** CDI vendors whose every device class reaches a GPU (NVIDIA's gpu and mig classes, AMD, Intel). */
const GPU_VENDORS = new Set(['nvidia.com', 'amd.com', 'intel.com']);
/** Device nodes of GPUs: NVIDIA's, DRM card and render nodes, AMD's compute interface. */
const GPU_DEVICE_NODE = /^\/dev\/(nvidia|dri(\/|$)|kfd$)/;

/** True when `device` (a CDI name or a device path, however spelled) gives access to a GPU. */
export function isGpuDevice(device: string): boolean {
  if (device.startsWith('/')) return GPU_DEVICE_NODE.test(posix.normalize(device));
  const slash = device.indexOf('/');
  const eq = device.indexOf('=');
  const vendor = slash < 0 ? device : device.slice(0, slash);
  const cls = slash < 0 ? '' : device.slice(slash + 1, eq < 0 ? undefined : eq);
  return GPU_VENDORS.has(vendor.toLowerCase()) || /gpu|mig|dri|accel/i.test(cls);
}

/** Runs the template policy; appends issues with file:line to `issues`. */
export function checkTemplatePolicy(repo: InfraRepo, docs: LoadedDoc[], issues: InfraIssue[]): void {
  const allowedDevices = new Set(repo.cluster?.doc.spec.templateDevices ?? []);
  const imageDir = repo.cluster?.doc.spec.vmImageDir ?? DEFAULT_VM_IMAGE_DIR;
  for (const d of docs) {
    if (d.kind === 'WorkspaceTemplate') checkTemplateDevices(d.located as Located<WorkspaceTemplate>, allowedDevices, issues);
    if (d.kind === 'WorkspaceTemplate') checkTemplateApps(d.located as Located<WorkspaceTemplate>, issues);
    if (d.kind === 'Service') checkIngressService(d.located as Located<Service>, issues);
    const vm = (d.located.doc as { spec?: { vm?: Vm } }).spec?.vm;
    if ((d.kind === 'WorkspaceTemplate' || d.kind === 'Service') && vm?.disk !== undefined) {
      const problem = baseImageProblem(vm.disk.baseImage, imageDir);
      if (problem !== undefined) issues.push(issueAt('INFRA_CONFLICT', d.located, ['spec', 'vm', 'disk', 'baseImage'], problem));
    }
  }
  checkVmHostDevices(repo, issues);
}

/** An app name is the first label of the app's URL: unique within the template, and only on a port the container publishes. */
function checkTemplateApps(loc: Located<WorkspaceTemplate>, issues: InfraIssue[]): void {
  const seen = new Map<string, string>();
  (loc.doc.spec.containers ?? []).forEach((c, i) => {
    (c.ports ?? []).forEach((p, k) => {
      if (p.app === undefined) return;
      const path: PathSegment[] = ['spec', 'containers', i, 'ports', k, 'app'];
      const first = seen.get(p.app);
      if (first !== undefined) issues.push(issueAt('INFRA_CONFLICT', loc, path, `app ${p.app} is already the name of ${first}: app names are unique within a template (they are the first label of the app's URL)`));
      else if (c.hostNetwork === true) issues.push(issueAt('INFRA_CONFLICT', loc, path, `app ${p.app} is on container ${c.name}, which uses hostNetwork: apps are published through the workspace's network only`));
      else seen.set(p.app, `container ${c.name} port ${p.containerPort}`);
    });
  });
}

/** The ingress runs on one named node (its agent runs nginx). */
function checkIngressService(loc: Located<Service>, issues: InfraIssue[]): void {
  const spec = loc.doc.spec;
  if (spec.ingress !== undefined && spec.placement.node === undefined) {
    issues.push(issueAt('INFRA_CONFLICT', loc, ['spec', 'placement'], 'an ingress service runs on one named node: expected placement.node, not nodeSelector'));
  }
}

function checkTemplateDevices(loc: Located<WorkspaceTemplate>, allowed: Set<string>, issues: InfraIssue[]): void {
  (loc.doc.spec.containers ?? []).forEach((c, i) => {
    // A host path is shared by every workspace of every tenant made from the template: read-only only.
    (c.volumes ?? []).forEach((v, k) => {
      if (v.hostPath !== undefined && v.readOnly !== true) {
        issues.push(issueAt('INFRA_CONFLICT', loc, ['spec', 'containers', i, 'volumes', k, 'hostPath'], `host path ${v.hostPath} is mounted writable in a workspace template: every workspace of every tenant would share it; expected readOnly: true (a Service may mount it writable)`));
      }
    });
    (c.devices ?? []).forEach((device, k) => {
      const path: PathSegment[] = ['spec', 'containers', i, 'devices', k];
      if (isGpuDevice(device)) {
        issues.push(issueAt('INFRA_CONFLICT', loc, path, `device ${device} is a GPU: a workspace template gets GPUs only through gpus: true (the GPUs the workspace holds and pays for)`));
      } else if (!allowed.has(device)) {
        issues.push(issueAt('INFRA_CONFLICT', loc, path, `device ${device} is not allowed in a workspace template: expected ${allowed.size === 0 ? 'no devices (Cluster spec.templateDevices is empty)' : `${oneOf(allowed)} (Cluster spec.templateDevices)`}`));
      }
    });
  });
}

/** Why `baseImage` is refused, or undefined: a plain file name, or an absolute path inside `imageDir` without '.' or '..'. */
export function baseImageProblem(baseImage: string, imageDir: string): string | undefined {
  const expected = `expected a file name in ${imageDir} (Cluster spec.vmImageDir) or a path inside it`;
  if (!baseImage.startsWith('/')) {
    return /^[A-Za-z0-9_][A-Za-z0-9._+-]*$/.test(baseImage) ? undefined : `base image ${JSON.stringify(baseImage)} is not a plain file name: ${expected}`;
  }
  const dir = imageDir.replace(/\/+$/, '');
  const inside = baseImage.startsWith(`${dir}/`) && !baseImage.split('/').some((s) => s === '..' || s === '.');
  return inside ? undefined : `base image ${baseImage} is outside the image directory: ${expected}`;
}

/** Each workspace's template VM may pass through only PCI devices its node allows, never the node's GPUs. */
function checkVmHostDevices(repo: InfraRepo, issues: InfraIssue[]): void {
  const reported = new Set<string>();
  for (const [wsName, ws] of repo.workspaces) {
    const template = repo.templates.get(ws.doc.spec.template);
    const devices = template?.doc.spec.vm?.hostDevices ?? [];
    if (template === undefined || devices.length === 0) continue;
    const nodeName = ws.doc.spec.node;
    const node = nodeName === undefined ? undefined : repo.nodes.get(nodeName)?.doc;
    const gpus = new Set((node?.spec.gpus ?? []).flatMap((g) => (g.pciAddress === undefined ? [] : [g.pciAddress.toLowerCase()])));
    const allowed = new Set((node?.spec.allowedHostDevices ?? []).map((a) => a.toLowerCase()));
    devices.forEach((addr, k) => {
      const a = addr.toLowerCase();
      let message: string | undefined;
      if (gpus.has(a)) message = `PCI device ${addr} is a GPU of node ${nodeName}: a workspace gets GPUs only through vm.gpus: true (the GPUs it holds and pays for)`;
      else if (node === undefined) message = `PCI device ${addr} cannot be checked: workspace ${wsName} has no node yet; expected hostDevices only in templates of workspaces placed on a node that allows them (Node spec.allowedHostDevices)`;
      else if (!allowed.has(a)) message = `PCI device ${addr} is not allowed on node ${nodeName} (workspace ${wsName}): expected ${allowed.size === 0 ? 'none (Node spec.allowedHostDevices is empty)' : `${oneOf(allowed)} (Node spec.allowedHostDevices)`}`;
      if (message === undefined || reported.has(message)) return;
      reported.add(message);
      issues.push(issueAt('INFRA_CONFLICT', template, ['spec', 'vm', 'hostDevices', k], message));
    });
  }
}

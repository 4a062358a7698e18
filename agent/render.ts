/**
 * Renders the desired state of ONE node from a loaded infra repo: the profile's baseline, the services
 * that target the node, and the workspaces assigned to it, expanded from their templates. Pure: the
 * same repo and node always give the same resources, ids and spec hashes.
 */
import { FoundryError } from '../common/errors.js';
import { specHash } from '../common/hash.js';
import { parseDuration, parseQuantity } from '../common/units.js';
import type { Container, InfraRepo, Node, NodeProfile, Vm, WorkspaceTemplate } from '../common/infra/model.js';
import type {
  ContainerSpec,
  DesiredContainer,
  DesiredNetwork,
  DesiredResource,
  DesiredState,
  DesiredVm,
  DesiredVolume,
  Owner,
  RuntimeMount,
} from './desired.js';
import { SCOPE_NETWORK, type ResourceScope } from '../common/infra/resource-ref.js';
import { resolveProfile } from '../common/infra/profile-chain.js';
import { DEFAULT_VM_VCPUS } from '../common/infra/held-resources.js';
import { vmDiskEncrypted, volumeEncrypted } from '../common/volumes/encrypted-refs.js';

/** A group of containers that share one network and one volume namespace: a profile, a service or a workspace. */
interface Unit {
  /** What the unit is (the scope of its resources' refs) and its name. */
  scope: ResourceScope;
  scopeName: string;
  /** Prefix of display ids (node, svc.NAME, ws.NAME). */
  idPrefix: string;
  /** Prefix of runtime names (fc-node, fc-svc-NAME, fc-ws-NAME). */
  namePrefix: string;
  owner: Owner;
  containers: Container[];
  vm: Vm | undefined;
  reclaimPolicy: 'Retain' | 'Delete';
  run: boolean;
  /** Env added to every container (workspace overrides). */
  env: Record<string, string>;
  /** GPUs the unit holds (workspaces) or undefined for "all GPUs of the node" (services, profiles). */
  gpuUuids: string[] | undefined;
  /** Address ports are published on when the port names none (workspaces: the node's internal address). */
  defaultHostIp: string | undefined;
  /** A workspace's template: what it encrypts at rest (undefined for services and profiles: nothing). */
  template: WorkspaceTemplate | undefined;
}

/** Renders the desired state of `nodeName`. Throws NODE_UNKNOWN when the repo does not declare the node. */
export function renderNodeState(repo: InfraRepo, nodeName: string): DesiredState {
  const node = repo.nodes.get(nodeName)?.doc;
  if (node === undefined) {
    throw new FoundryError('NODE_UNKNOWN', `node ${nodeName} is not declared in the infra repo (add nodes/${nodeName}.yaml)`, { resource: `node/${nodeName}` });
  }
  const profile = resolveProfile(repo, node.spec.profile);
  const units = [profileUnit(nodeName, node, profile), ...serviceUnits(repo, nodeName, node), ...workspaceUnits(repo, nodeName, internalAddressOf(node))];
  const resources = units.flatMap((unit) => renderUnit(unit, node));
  resources.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
  return {
    node: nodeName,
    revision: repo.revision,
    profile: node.spec.profile,
    resources,
    allowMassPrune: repo.cluster?.doc.spec.allowMassPrune === true || node.spec.allowMassPrune === true,
  };
}

function profileUnit(nodeName: string, node: Node, profile: NodeProfile): Unit {
  return {
    scope: 'profile',
    scopeName: node.spec.profile,
    idPrefix: 'node',
    namePrefix: 'fc-node',
    owner: { node: nodeName, profile: node.spec.profile },
    containers: profile.spec.containers ?? [],
    vm: undefined,
    reclaimPolicy: 'Retain',
    run: true,
    env: {},
    gpuUuids: undefined,
    defaultHostIp: undefined,
    template: undefined,
  };
}

/** Services placed on this node by name, or by a selector matching its labels (selectors only pick nodes whose profile hosts services). */
function serviceUnits(repo: InfraRepo, nodeName: string, node: Node): Unit[] {
  const hostsServices = resolveProfile(repo, node.spec.profile).spec.hostsServices !== false;
  const units: Unit[] = [];
  for (const [name, { doc }] of repo.services) {
    const { placement } = doc.spec;
    const byName = placement.node === nodeName;
    const bySelector = placement.nodeSelector !== undefined && hostsServices && labelsMatch(placement.nodeSelector, node.spec.labels ?? {});
    if (!byName && !bySelector) continue;
    units.push({
      scope: 'service',
      scopeName: name,
      idPrefix: `svc.${name}`,
      namePrefix: `fc-svc-${name}`,
      owner: { node: nodeName, service: name },
      containers: doc.spec.containers ?? [],
      vm: doc.spec.vm,
      reclaimPolicy: doc.spec.reclaimPolicy ?? 'Retain',
      run: true,
      env: {},
      gpuUuids: undefined,
      defaultHostIp: undefined,
      template: undefined,
    });
  }
  return units;
}

/** The node's address on the private network (Node spec.network.internalAddress), 127.0.0.1 when unset: never all addresses. */
export function internalAddressOf(node: Node): string {
  return node.spec.network?.internalAddress ?? '127.0.0.1';
}

/** Workspaces assigned to this node; their ports are published on `internalAddress` unless a port names its own. */
function workspaceUnits(repo: InfraRepo, nodeName: string, internalAddress: string): Unit[] {
  const units: Unit[] = [];
  for (const [name, { doc }] of repo.workspaces) {
    if (doc.spec.node !== nodeName) continue;
    const template = repo.templates.get(doc.spec.template)?.doc;
    if (template === undefined) {
      throw new FoundryError('INFRA_REFERENCE', `workspace ${name} uses unknown template ${doc.spec.template}`, { resource: `workspace/${name}` });
    }
    units.push({
      scope: 'workspace',
      scopeName: name,
      idPrefix: `ws.${name}`,
      namePrefix: `fc-ws-${name}`,
      owner: { node: nodeName, workspace: name, tenant: doc.spec.tenant },
      containers: template.spec.containers ?? [],
      vm: template.spec.vm,
      reclaimPolicy: doc.spec.reclaimPolicy ?? 'Retain',
      run: (doc.spec.state ?? 'running') === 'running',
      env: doc.spec.env ?? {},
      gpuUuids: doc.spec.gpus?.uuids ?? [],
      defaultHostIp: internalAddress,
      template,
    });
  }
  return units;
}

/** True when every selector label is present with the same value. */
export function labelsMatch(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function renderUnit(unit: Unit, node: Node): DesiredResource[] {
  const out: DesiredResource[] = [];
  const needsNetwork = unit.containers.some((c) => c.hostNetwork !== true);
  const networkName = `${unit.namePrefix}`;
  if (needsNetwork) out.push(resource<DesiredNetwork>('network', SCOPE_NETWORK, `${unit.idPrefix}.net`, networkName, unit, { internal: false }));
  const volumeNames = new Set(unit.containers.flatMap((c) => (c.volumes ?? []).flatMap((v) => (v.name === undefined ? [] : [v.name]))));
  for (const vol of [...volumeNames].sort()) {
    out.push(resource<DesiredVolume>('volume', vol, `${unit.idPrefix}.vol.${vol}`, `${unit.namePrefix}-${vol}`, unit, volumeSpec(unit, vol)));
  }
  for (const c of unit.containers) {
    const spec = containerSpec(c, unit, needsNetwork ? networkName : undefined);
    out.push({ ...resource<DesiredContainer>('container', c.name, `${unit.idPrefix}.${c.name}`, `${unit.namePrefix}-${c.name}`, unit, spec), run: unit.run } as DesiredContainer);
  }
  if (unit.vm !== undefined) {
    out.push({ ...resource<DesiredVm>('vm', unit.vm.name, `${unit.idPrefix}.vm.${unit.vm.name}`, `${unit.namePrefix}-${unit.vm.name}`, unit, vmSpec(unit.vm, unit, node)), run: unit.run } as DesiredVm);
  }
  return out;
}

/** One resource of `unit`: `declared` is its name in the repo (its ref's name), `id` its display id, `name` its runtime name. */
function resource<R extends DesiredResource>(kind: R['kind'], declared: string, id: string, name: string, unit: Unit, spec: R['spec']): R {
  return { kind, ref: { kind, scope: unit.scope, owner: unit.scopeName, name: declared }, id, name, owner: unit.owner, spec, specHash: specHash({ kind, name, spec }), reclaimPolicy: unit.reclaimPolicy } as R;
}

function containerSpec(c: Container, unit: Unit, network: string | undefined): ContainerSpec {
  const mounts: RuntimeMount[] = (c.volumes ?? []).map((v) =>
    v.name !== undefined
      ? { type: 'volume', source: `${unit.namePrefix}-${v.name}`, target: v.mountPath, readOnly: v.readOnly === true }
      : { type: 'bind', source: v.hostPath ?? '', target: v.mountPath, readOnly: v.readOnly === true },
  );
  const hc = c.healthcheck;
  return {
    image: c.image,
    command: c.command,
    args: c.args,
    env: { ...(c.env ?? {}), ...unit.env },
    ports: (c.ports ?? []).map((p) => ({ containerPort: p.containerPort, hostPort: p.hostPort, hostIp: p.hostIp ?? unit.defaultHostIp, protocol: p.protocol ?? 'tcp' })),
    mounts,
    cpus: c.resources?.cpus,
    memoryBytes: c.resources?.memory === undefined ? undefined : parseQuantity(c.resources.memory),
    devices: [...gpuDevices(c, unit), ...(c.devices ?? [])],
    healthcheck:
      hc === undefined
        ? undefined
        : {
            command: hc.command,
            intervalMs: parseDuration(hc.interval ?? '30s'),
            timeoutMs: parseDuration(hc.timeout ?? '10s'),
            retries: hc.retries ?? 3,
            startPeriodMs: parseDuration(hc.startPeriod ?? '0s'),
          },
    restartPolicy: c.restartPolicy ?? 'always',
    pullPolicy: c.pullPolicy ?? 'IfNotPresent',
    labels: c.labels ?? {},
    user: c.user,
    workingDir: c.workingDir,
    network: c.hostNetwork === true ? undefined : network,
    hostNetwork: c.hostNetwork === true,
    privileged: c.privileged === true,
    aliases: c.hostNetwork === true ? [] : [c.name],
    secrets: c.secrets === undefined || c.secrets.length === 0 ? undefined : c.secrets.map((s) => ({ name: s.name, source: s.source ?? 'repo', ...(s.env === undefined ? {} : { env: s.env }), ...(s.file === undefined ? {} : { file: s.file }) })),
  };
}

/** CDI devices for `gpus: true`: the workspace's GPUs, or every GPU of the node for services and profiles. */
function gpuDevices(c: Container, unit: Unit): string[] {
  if (c.gpus !== true) return [];
  if (unit.gpuUuids === undefined) return ['nvidia.com/gpu=all'];
  return unit.gpuUuids.map((uuid) => `nvidia.com/gpu=${uuid}`);
}

/** A workspace volume is encrypted unless its template, or any mount of it, says `encryption: none` (common/volumes/encrypted-refs). */
function volumeSpec(unit: Unit, vol: string): DesiredVolume['spec'] {
  if (unit.template === undefined || unit.owner.workspace === undefined || !volumeEncrypted(unit.template, vol)) return {};
  return { encryption: { format: 'gocryptfs', key: { workspace: unit.owner.workspace, kind: 'volume', name: vol } } };
}

function vmSpec(vm: Vm, unit: Unit, node: Node): DesiredVm['spec'] {
  const gpuUuids = vm.gpus === true ? (unit.gpuUuids ?? (node.spec.gpus ?? []).map((g) => g.uuid)) : [];
  const pciOf = new Map((node.spec.gpus ?? []).map((g) => [g.uuid, g.pciAddress]));
  const gpuPci = vm.driver === 'libvirt' ? gpuUuids.map((u) => pciOf.get(u)).filter((a): a is string => a !== undefined) : [];
  return {
    driver: vm.driver,
    vcpus: vm.vcpus ?? DEFAULT_VM_VCPUS,
    memoryBytes: vm.memory === undefined ? undefined : parseQuantity(vm.memory),
    disk: vm.disk === undefined ? undefined : { baseImage: vm.disk.baseImage, sizeBytes: vm.disk.size === undefined ? undefined : parseQuantity(vm.disk.size) },
    network: vm.network,
    userData: vm.cloudInit?.userData,
    hostDevices: [...gpuPci, ...(vm.hostDevices ?? [])],
    gpuUuids,
    openstack: vm.openstack,
    diskEncryption:
      unit.template !== undefined && unit.owner.workspace !== undefined && vmDiskEncrypted(unit.template)
        ? { format: 'luks', key: { workspace: unit.owner.workspace, kind: 'vm-disk', name: vm.name } }
        : undefined,
    secrets: vm.cloudInit?.secrets === undefined || vm.cloudInit.secrets.length === 0 ? undefined : vm.cloudInit.secrets.map((s) => ({ name: s.name, source: s.source ?? 'repo', file: s.path, permissions: s.permissions ?? '0400' })),
  };
}

/**
 * The desired state of one node, as rendered from the infra repo, and what the runtimes observe.
 * These are the inputs and outputs of the pure core: render → DesiredState, drivers → ObservedResource[],
 * plan(desired, observed) → Action[].
 */

import { refKey, type ResourceKind, type ResourceRef } from '../common/infra/resource-ref.js';
import type { VolumeKeyRef } from '../common/volumes/volume-key-ref.js';

export type { ResourceKind, ResourceRef } from '../common/infra/resource-ref.js';

/** Who a resource belongs to; carried in ownership labels / metadata on everything the agent creates. */
export interface Owner {
  node: string;
  /** Set for workspace resources. */
  workspace?: string;
  tenant?: string;
  /** Set for service resources. */
  service?: string;
  /** Set for the profile's baseline resources. */
  profile?: string;
}

/** A mount of a named volume or an allowed host path. */
export interface RuntimeMount {
  type: 'volume' | 'bind';
  /** Runtime volume name (type volume) or absolute host path (type bind). */
  source: string;
  target: string;
  readOnly: boolean;
}

/** A published port. */
export interface RuntimePort {
  containerPort: number;
  hostPort: number | undefined;
  hostIp: string | undefined;
  protocol: 'tcp' | 'udp';
}

/**
 * A secret a container receives, by name; never its value. `digest` and `runtimeName` are filled in by the
 * agent's secrets step (a keyed digest of the value, so a change recreates exactly the containers using
 * it; the runtime's secret holding the value); the rendered desired state and last-good.json carry neither.
 */
export interface RuntimeSecret {
  name: string;
  source: 'repo' | 'workspace';
  /** Environment variable that receives the value. */
  env?: string;
  /** Absolute path of the file inside the container, or (VMs) in the guest, written by cloud-init. */
  file?: string;
  /** File mode in a VM guest (octal string, default 0400). */
  permissions?: string;
  /** HMAC-SHA-256 of the value with a node-local key (hex, 32 digits). */
  digest?: string;
  /** Name of the runtime secret (Podman secret) that holds the value. */
  runtimeName?: string;
}

/** Everything a driver needs to create a container, fully resolved (no defaults left to apply). */
export interface ContainerSpec {
  image: string;
  command: string[] | undefined;
  args: string[] | undefined;
  env: Record<string, string>;
  ports: RuntimePort[];
  mounts: RuntimeMount[];
  cpus: number | undefined;
  memoryBytes: number | undefined;
  /** CDI device names, e.g. nvidia.com/gpu=GPU-xxxx. */
  devices: string[];
  healthcheck: { command: string[]; intervalMs: number; timeoutMs: number; retries: number; startPeriodMs: number } | undefined;
  restartPolicy: 'no' | 'always' | 'on-failure' | 'unless-stopped';
  pullPolicy: 'IfNotPresent' | 'Always' | 'Never';
  /** User labels from the spec (ownership labels are added by the driver). */
  labels: Record<string, string>;
  user: string | undefined;
  workingDir: string | undefined;
  /** Runtime name of the network the container joins; undefined with hostNetwork. */
  network: string | undefined;
  /** Share the node's network namespace (profile and service containers only). */
  hostNetwork: boolean;
  /** Privileged (profile and service containers only). */
  privileged: boolean;
  /** Network aliases (the container's short name) so peers in the same workspace find it by name. */
  aliases: string[];
  /** Secrets by name (absent when there are none, so containers without secrets keep their spec hash). */
  secrets?: RuntimeSecret[];
}

/** A VM, fully resolved. */
export interface VmSpec {
  driver: 'libvirt' | 'openstack';
  vcpus: number;
  memoryBytes: number | undefined;
  disk: { baseImage: string; sizeBytes: number | undefined } | undefined;
  network: string | undefined;
  userData: string | undefined;
  /** PCI addresses passed through (libvirt). */
  hostDevices: string[];
  /** GPU UUIDs the VM holds (for attribution and billing). */
  gpuUuids: string[];
  openstack: { flavor: string; image: string; availabilityZone?: string; host?: string; keyName?: string } | undefined;
  /** Set on workspace VMs with a libvirt disk: the qcow2 overlay is LUKS-encrypted with the key of this ref (absent: plain). */
  diskEncryption?: { format: 'luks'; key: VolumeKeyRef } | undefined;
  /** Secrets cloud-init writes into the guest (absent when the template lists none). */
  secrets?: RuntimeSecret[];
}

/** A named volume's spec: absent encryption is a plain Podman volume (services, profiles, opted-out volumes). */
export interface VolumeSpec {
  /** A gocryptfs directory unlocked with the key of this ref. */
  encryption?: { format: 'gocryptfs'; key: VolumeKeyRef } | undefined;
}

interface DesiredBase<K extends ResourceKind, S> {
  kind: K;
  /** The resource's identity (kind, scope, owner, name): what the planner, status and back-off key on. */
  ref: ResourceRef;
  /** Display id, e.g. ws.acme-alice.ollama, for logs and status; two kinds may share one, so nothing keys on it alone. */
  id: string;
  /** Runtime name (container, network, volume or domain name). */
  name: string;
  owner: Owner;
  spec: S;
  /** Short hash of the canonical spec; a change means recreate. */
  specHash: string;
  /** What to do with data (volumes, disks) when the resource is removed. */
  reclaimPolicy: 'Retain' | 'Delete';
}

/** A network: one per workspace and per service, so tenants cannot reach each other. */
export type DesiredNetwork = DesiredBase<'network', { internal: boolean }>;
/** A named volume: created when missing, never recreated, removed only when its reclaim policy says Delete. */
export type DesiredVolume = DesiredBase<'volume', VolumeSpec>;
/** A container, with whether it should run (a stopped workspace keeps its containers stopped). */
export type DesiredContainer = DesiredBase<'container', ContainerSpec> & { run: boolean };
/** A VM, with whether it should run. */
export type DesiredVm = DesiredBase<'vm', VmSpec> & { run: boolean };

/** Any desired resource. */
export type DesiredResource = DesiredNetwork | DesiredVolume | DesiredContainer | DesiredVm;

/** The whole desired state of one node at one revision. */
export interface DesiredState {
  node: string;
  revision: string;
  profile: string;
  resources: DesiredResource[];
  /** The revision allows pruning more than half of what the node manages. */
  allowMassPrune: boolean;
}

/** Observed run state, normalized across runtimes. */
export type ObservedState = 'running' | 'stopped' | 'created' | 'paused' | 'failed' | 'unknown';

/** A resource the agent finds on the node that carries its ownership marks. */
export interface ObservedResource {
  kind: ResourceKind;
  /** Identity from the ownership marks; absent on resources created before the marks carried it (matched by kind and display id). */
  ref?: ResourceRef | undefined;
  /** Display id from the ownership marks. */
  id: string;
  name: string;
  /** Runtime's own id (container id, domain UUID, server id). */
  runtimeId: string;
  owner: Owner;
  /** Spec hash from the ownership marks; undefined when absent (treated as changed). */
  specHash: string | undefined;
  state: ObservedState;
  /** Reclaim policy recorded at creation (volumes, disks). */
  reclaimPolicy: 'Retain' | 'Delete';
  /** A few observed facts used to explain recreations, e.g. { image: 'x:1' }. */
  facts: Record<string, string>;
  /** Containers: the ports the runtime published, with the address and host port it actually bound. */
  published?: PublishedPort[];
}

/** A port as the runtime published it (the host port is the one it picked when the spec named none). */
export interface PublishedPort {
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  hostIp: string;
  hostPort: number;
}

/** What the reconciler does to one resource. */
export type ActionType = 'create' | 'recreate' | 'start' | 'stop' | 'remove' | 'noop';

/**
 * Why the planner chose an action, as a code: Missing (declared, not present), SpecChanged, NotRunning
 * (found stopped or crashed, expected running), StateStopped (the workspace is set to stopped), Undeclared
 * (no longer declared: pruned), Duplicate (a second copy left by an interrupted run), UpToDate, Retained.
 */
export type ActionCause = 'Missing' | 'SpecChanged' | 'NotRunning' | 'StateStopped' | 'Undeclared' | 'Duplicate' | 'UpToDate' | 'Retained';

/**
 * When an action runs: 0 removals of workloads, 1 networks and volumes, 2 workloads, 3 removals of
 * networks and volumes. The planner orders by it and the reconciler applies one phase after the other.
 */
export type ActionPhase = 0 | 1 | 2 | 3;

/** One step of a plan, with the reason shown in logs and status. */
export interface Action {
  type: ActionType;
  kind: ResourceKind;
  /** Display id of the resource. */
  id: string;
  /** Unique key of the resource (resourceKey): status and back-off are keyed on it. */
  key: string;
  /** Why, e.g. "recreate: image changed from x:1 to x:2". */
  reason: string;
  /** The reason as a short code (metrics labels, never free text); the planner sets it on every action. */
  cause?: ActionCause;
  desired: DesiredResource | undefined;
  observed: ObservedResource | undefined;
  /** The phase the planner ordered this action into. */
  phase: ActionPhase;
  /** Set when the mass-prune guard held this removal back, or a secret of the container could not be read (the action is then a noop: what runs keeps running). */
  held?: 'PruneRefused' | 'SecretUnavailable';
  /** A noop that keeps an undeclared resource on purpose (a volume with reclaimPolicy Retain, a held removal). */
  retained?: true;
}

/**
 * The unique key of a desired or observed resource: its ref's key; for an observed resource created before
 * ownership marks carried a ref, its kind and display id (compared whole, never parsed).
 */
export function resourceKey(r: { kind: ResourceKind; id: string; ref?: ResourceRef | undefined }): string {
  return r.ref !== undefined ? refKey(r.ref) : legacyKey(r.kind, r.id);
}

/** The key an observed resource without a ref is matched on: its kind and display id. */
export function legacyKey(kind: ResourceKind, id: string): string {
  return JSON.stringify(['legacy', kind, id]);
}

/**
 * The one small interface every runtime driver implements (Podman, libvirt, OpenStack), after Nomad's
 * drivers: probe, list what we own, apply one action. Drivers never decide what to do; the planner does.
 */
import type { Action, ObservedResource, ResourceKind } from '../desired.js';

/** Result of probing a runtime. */
export interface ProbeResult {
  available: boolean;
  /** Human-readable: version when available, what is missing and how to fix it otherwise. */
  message: string;
}

/** A condition of the node a driver reports (Flux style: PascalCase reason, a message that says what to do). */
export interface NodeCondition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

/** Optional capability: a driver that can tell whether its runtime can serve workloads (cheap, cached). */
export interface ConditionReporter {
  /** Node conditions about this runtime; empty when it cannot tell (e.g. unreachable). Never throws. */
  conditions(): Promise<NodeCondition[]>;
}

/** True when the driver reports node conditions. */
export function reportsConditions(d: RuntimeDriver): d is RuntimeDriver & ConditionReporter {
  return typeof (d as Partial<ConditionReporter>).conditions === 'function';
}

/**
 * Optional capability: a runtime that holds secrets for its workloads (Podman secrets). Names are
 * content-addressed (a keyed digest of the value), so an existing name already holds the right value.
 */
export interface SecretHolder {
  /** Creates runtime secret `name` holding `value` unless it exists; throws a FoundryError naming resource `id`, never the value. */
  putSecret(name: string, value: Uint8Array, id: string): Promise<void>;
  /** Names of the runtime secrets the agent of `node` created (by their name prefix). */
  listSecrets(node: string): Promise<string[]>;
  /** Removes a runtime secret; absent is fine. */
  removeSecret(name: string): Promise<void>;
}

/** True when the driver holds secrets. */
export function holdsSecrets(d: RuntimeDriver): d is RuntimeDriver & SecretHolder {
  return typeof (d as Partial<SecretHolder>).putSecret === 'function';
}

/** Prefix of the runtime secrets the agent of `node` creates: fc-secret-NODE-<digest>. */
export function runtimeSecretPrefix(node: string): string {
  return `fc-secret-${node}-`;
}

/** A runtime the agent converges. */
export interface RuntimeDriver {
  /** Short name: podman, libvirt, openstack. */
  readonly name: string;
  /** Resource kinds this driver manages. */
  readonly kinds: readonly ResourceKind[];
  /** Whether the runtime is reachable now; never throws. */
  probe(): Promise<ProbeResult>;
  /** Everything on the runtime that carries our ownership marks for `node`; nothing else. */
  list(node: string): Promise<ObservedResource[]>;
  /** Carries out one create / recreate / start / stop / remove. Throws a FoundryError naming the resource id. */
  apply(action: Action): Promise<void>;
  /** Releases connections and timers. */
  close?(): Promise<void>;
}

/**
 * Routing key of a resource: its kind, except VMs, which are keyed by the driver that runs them
 * (vm/libvirt, vm/openstack), so that a node can run both and one unreachable backend blocks only its own.
 */
export function runtimeKeyOf(r: { kind: ResourceKind; spec?: unknown; facts?: Record<string, string> }): string {
  if (r.kind !== 'vm') return r.kind;
  const driver = (r.spec as { driver?: string } | undefined)?.driver ?? r.facts?.driver ?? 'unknown';
  return `vm/${driver}`;
}

/** The routing keys a driver serves (see runtimeKeyOf). */
export function driverKeys(d: Pick<RuntimeDriver, 'name' | 'kinds'>): string[] {
  return d.kinds.map((k) => (k === 'vm' ? `vm/${d.name}` : k));
}

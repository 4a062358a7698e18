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

/**
 * What a workspace's containers and VM take from their node: one rule for the hub, which reserves it when
 * it places a workspace (hub/scheduler/from-infra.ts templateResources), and for the agent, which bills it
 * while the workspace runs (agent/usage/workspace-allocations.ts declaredResources). A container takes its
 * CPU and memory limits; a libvirt VM its vCPUs (2 when the template names none), memory and boot disk; an
 * OpenStack VM runs on Nova's hosts and takes nothing from the node. Named volumes declare no size.
 */
import type { Container, Vm } from './model.js';
import { parseQuantity } from '../units.js';

/** vCPUs of a VM whose template names none (the agent renders it so; the hub reserves it so). */
export const DEFAULT_VM_VCPUS = 2;

/** What one container or VM holds on its node. */
export interface HeldResources {
  /** Thousandths of a vCPU (a container's cpus: 0.5 → 500). */
  milliVcpus: number;
  memoryBytes: number;
  storageBytes: number;
}

/** A container or VM with its sizes in numbers: from a template (holdersOf) or from the agent's rendered spec. */
export type Holder =
  | { kind: 'container'; cpus?: number; memoryBytes?: number }
  | { kind: 'vm'; driver: string; vcpus: number; memoryBytes?: number; diskBytes?: number };

/** What one container or VM holds on its node. */
export function heldBy(h: Holder): HeldResources {
  if (h.kind === 'container') return { milliVcpus: Math.round((h.cpus ?? 0) * 1000), memoryBytes: Math.round(h.memoryBytes ?? 0), storageBytes: 0 };
  if (h.driver !== 'libvirt') return { milliVcpus: 0, memoryBytes: 0, storageBytes: 0 };
  return { milliVcpus: h.vcpus * 1000, memoryBytes: Math.round(h.memoryBytes ?? 0), storageBytes: Math.round(h.diskBytes ?? 0) };
}

/** The containers and VM of a template's spec, sized as the agent renders them (quantities parsed, default vCPUs). */
export function holdersOf(spec: { containers?: Container[]; vm?: Vm }): Holder[] {
  const quantity = (q: string | undefined): number | undefined => (q === undefined ? undefined : parseQuantity(q));
  const holders: Holder[] = (spec.containers ?? []).map((c) => ({ kind: 'container', cpus: c.resources?.cpus, memoryBytes: quantity(c.resources?.memory) }));
  const vm = spec.vm;
  if (vm !== undefined) holders.push({ kind: 'vm', driver: vm.driver, vcpus: vm.vcpus ?? DEFAULT_VM_VCPUS, memoryBytes: quantity(vm.memory), diskBytes: quantity(vm.disk?.size) });
  return holders;
}

/** The sum of what several containers and VMs hold. */
export function sumHeld(held: readonly HeldResources[]): HeldResources {
  return held.reduce((s, h) => ({ milliVcpus: s.milliVcpus + h.milliVcpus, memoryBytes: s.memoryBytes + h.memoryBytes, storageBytes: s.storageBytes + h.storageBytes }), { milliVcpus: 0, memoryBytes: 0, storageBytes: 0 });
}

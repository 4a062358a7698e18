/**
 * A complete in-memory RuntimeDriver (after Nomad's fake drivers): it keeps containers, networks and
 * volumes with their ownership marks, applies actions like a real runtime would, and can be told to fail
 * for given resource ids. For tests of the reconciler and for dry runs; never used on a node.
 */
import { FoundryError } from '../../common/errors.js';
import type { Action, ObservedResource, ResourceKind } from '../../agent/desired.js';
import type { ProbeResult, RuntimeDriver } from '../../agent/drivers/driver.js';

/** The in-memory runtime. */
export class FakeDriver implements RuntimeDriver {
  readonly name: string;
  readonly kinds: readonly ResourceKind[];
  /** Everything "running" on the fake node, by runtime id. */
  readonly objects = new Map<string, ObservedResource>();
  /** Resource ids whose actions fail, with the error to throw. */
  readonly failures = new Map<string, FoundryError>();
  /** Every action applied, as "type id". */
  readonly applied: string[] = [];
  /** Set to make list() fail as if the runtime were down. */
  down = false;
  /** Delay of each apply in ms (to test overlapping triggers). */
  applyDelayMs = 0;
  private seq = 0;

  /** A container runtime by default; `{ name: 'libvirt', kinds: ['vm'] }` makes a VM backend. */
  constructor(options: { name?: string; kinds?: readonly ResourceKind[] } = {}) {
    this.name = options.name ?? 'fake';
    this.kinds = options.kinds ?? ['network', 'volume', 'container'];
  }

  async probe(): Promise<ProbeResult> {
    return { available: !this.down, message: this.down ? 'fake runtime is down' : 'fake runtime' };
  }

  async list(node: string): Promise<ObservedResource[]> {
    if (this.down) throw new FoundryError('RUNTIME_UNAVAILABLE', 'list: the container engine is not reachable (ECONNREFUSED)', { resource: `node/${node}` });
    return [...this.objects.values()].filter((o) => o.owner.node === node).map((o) => ({ ...o, facts: { ...o.facts } }));
  }

  async apply(action: Action): Promise<void> {
    if (this.applyDelayMs > 0) await new Promise((r) => setTimeout(r, this.applyDelayMs));
    const failure = this.failures.get(action.id);
    if (failure !== undefined) throw failure;
    this.applied.push(`${action.type} ${action.id}`);
    const d = action.desired;
    const o = action.observed;
    if ((action.type === 'remove' || action.type === 'recreate') && o !== undefined) this.objects.delete(o.runtimeId);
    if ((action.type === 'create' || action.type === 'recreate') && d !== undefined) {
      const runtimeId = `fake-${++this.seq}`;
      const run = d.kind === 'container' || d.kind === 'vm' ? d.run : true;
      const facts: Record<string, string> = d.kind === 'container' ? { image: d.spec.image } : d.kind === 'vm' ? { driver: this.name } : {};
      const state = d.kind === 'container' || d.kind === 'vm' ? (run ? 'running' : 'created') : 'created';
      this.objects.set(runtimeId, { kind: d.kind, ref: d.ref, id: d.id, name: d.name, runtimeId, owner: d.owner, specHash: d.specHash, state, reclaimPolicy: d.reclaimPolicy, facts });
    }
    if (action.type === 'start' && o !== undefined) this.setState(o.runtimeId, 'running');
    if (action.type === 'stop' && o !== undefined) this.setState(o.runtimeId, 'stopped');
  }

  /** Changes a resource's state behind the agent's back (drift). */
  setState(runtimeId: string, state: ObservedResource['state']): void {
    const obj = this.objects.get(runtimeId);
    if (obj !== undefined) obj.state = state;
  }

  /** The runtime id of the resource with `id`. */
  runtimeIdOf(id: string): string | undefined {
    return [...this.objects.values()].find((o) => o.id === id)?.runtimeId;
  }
}

/**
 * The PlacementQueue under concurrency: 100 requests fired at once at a nearly full fleet, with a fake Git whose
 * pushes sometimes conflict (another writer took GPUs first). No GPU may be held twice, quotas hold, and
 * every refusal is explained.
 */
import { describe, expect, it } from 'vitest';
import { FoundryError } from '../../common/errors.js';
import type { NoPlacement, Placement, PlacementRequest } from '../../hub/scheduler/place.js';
import { PlacementQueue } from '../../hub/scheduler/placement-queue.js';
import type { AllocationSnapshot, FleetSnapshot } from '../../hub/scheduler/snapshot.js';
import { gpus, H100, L40, node } from './fleet-fixture.js';

const Gi = 1024 ** 3;

/** A tiny deterministic PRNG so the test is the same every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** "Git": the allocations committed so far; the loader reads it, commits append to it. */
function fakeRepo() {
  const nodes = Array.from({ length: 10 }, (_, i) => {
    const name = `gpu-${String(i + 1).padStart(2, '0')}`;
    return node(name, { gpus: gpus(name, 8, i < 7 ? H100 : L40, i === 3 ? [7] : []), drain: i === 9 });
  });
  const allocations: AllocationSnapshot[] = [];
  // fill every node but two GPUs each
  nodes.forEach((n, i) => allocations.push({ workspace: `seed/ws${i}`, tenant: 'seed', node: n.name, gpuUuids: n.gpus.slice(0, 6).map((g) => g.uuid), cpus: 8, memoryBytes: 32 * Gi }));
  const tenants = [{ name: 'seed' }, { name: 't0', maxGpus: 3 }, { name: 't1', maxGpus: 5 }, { name: 't2' }, { name: 't3', maxGpus: 0 }];
  let loads = 0;
  return {
    allocations,
    load: async (): Promise<FleetSnapshot> => {
      loads++;
      await Promise.resolve();
      return { nodes, allocations: allocations.map((a) => ({ ...a })), tenants };
    },
    get loads() {
      return loads;
    },
  };
}

describe('PlacementQueue', () => {
  it('never double-allocates under 100 concurrent requests and explains every refusal', async () => {
    const repo = fakeRepo();
    const rand = rng(42);
    let commits = 0;
    let conflicts = 0;
    const planner = new PlacementQueue({
      load: repo.load,
      commit: async (p: Placement) => {
        await new Promise((r) => setTimeout(r, rand() < 0.5 ? 0 : 1));
        commits++;
        if (commits % 9 === 0) {
          // another writer pushed first and took one free GPU of that node: our push conflicts
          const theirs = repo.allocations.flatMap((a) => a.gpuUuids);
          const free = (await repo.load()).nodes.find((n) => n.name === p.node)!.gpus.find((g) => g.healthy && !theirs.includes(g.uuid))!;
          repo.allocations.push({ workspace: `admin/${commits}`, tenant: 'seed', node: p.node, gpuUuids: [free.uuid], cpus: 0, memoryBytes: 0 });
          conflicts++;
          throw new FoundryError('PLACEMENT_CONFLICT', 'push rejected: fetch first');
        }
        repo.allocations.push({ workspace: p.workspace, tenant: p.tenant, node: p.node, gpuUuids: p.gpuUuids, cpus: p.cpus, memoryBytes: p.memoryBytes });
      },
    });
    const requests: PlacementRequest[] = Array.from({ length: 100 }, (_, i) => ({
      workspace: `t${i % 4}/ws${i}`,
      tenant: `t${i % 4}`,
      gpus: { count: 1 + Math.floor(rand() * 2), ...(rand() < 0.7 ? { model: H100 } : {}) },
      cpus: 2,
      memoryBytes: 8 * Gi,
    }));
    const results: Array<Placement | NoPlacement> = await Promise.all(requests.map((r) => planner.request(r)));

    const holders = new Map<string, string>();
    for (const a of repo.allocations) {
      for (const u of a.gpuUuids) {
        expect(holders.get(u), `${u} held by ${holders.get(u)} and ${a.workspace}`).toBeUndefined();
        holders.set(u, a.workspace);
      }
    }
    const placed = results.filter((r): r is Placement => r.ok);
    const refused = results.filter((r): r is NoPlacement => !r.ok);
    expect(placed.length + refused.length).toBe(100);
    expect(placed.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    expect(conflicts).toBeGreaterThan(0);
    // every placement that resolved is the one in "Git"
    for (const p of placed) expect(repo.allocations.find((a) => a.workspace === p.workspace)?.gpuUuids).toEqual(p.gpuUuids);
    // quotas hold
    const held = (t: string) => repo.allocations.filter((a) => a.tenant === t).reduce((n, a) => n + a.gpuUuids.length, 0);
    expect(held('t0')).toBeLessThanOrEqual(3);
    expect(held('t1')).toBeLessThanOrEqual(5);
    expect(held('t3')).toBe(0);
    // every refusal is explained: a quota sentence or per-reason node counts adding up to the fleet
    for (const r of refused) {
      expect(r.explanation.startsWith(`no placement for ${r.workspace}: `)).toBe(true);
      if (r.reasons[0]?.nodes === 0) expect(r.explanation).toMatch(/^no placement for t\d\/ws\d+: tenant t\d: quota \d+ GPUs?, holds \d+, asks \d$/);
      else expect(r.reasons.reduce((n, x) => n + x.nodes, 0)).toBe(10);
    }
    expect(refused.some((r) => /1 node: draining/.test(r.explanation))).toBe(true);
  });

  it('gives up after repeated conflicts with PLACEMENT_CONFLICT, and surfaces other commit errors', async () => {
    const repo = fakeRepo();
    const always = new PlacementQueue({ load: repo.load, maxAttempts: 3, commit: async () => { throw new FoundryError('PLACEMENT_CONFLICT', 'push rejected'); } });
    await expect(always.request({ workspace: 't2/a', tenant: 't2', gpus: { count: 1 } })).rejects.toThrow('placement of t2/a still conflicted after 3 attempts');
    expect(repo.loads).toBe(3);
    const broken = new PlacementQueue({ load: repo.load, commit: async () => { throw new Error('disk full'); } });
    await expect(broken.request({ workspace: 't2/b', tenant: 't2', gpus: { count: 1 } })).rejects.toThrow('disk full');
    // the queue keeps working after a failure
    const ok = new PlacementQueue({ load: repo.load });
    await expect(broken.request({ workspace: 't2/c', tenant: 't2', gpus: { count: 0 } })).rejects.toThrow('disk full');
    expect((await ok.request({ workspace: 't2/c', tenant: 't2', gpus: { count: 1 } })).ok).toBe(true);
  });

  it('answers the same workspace twice with its existing placement and frees GPUs on release', async () => {
    const repo = fakeRepo();
    const planner = new PlacementQueue({ load: repo.load });
    const ask: PlacementRequest = { workspace: 't2/x', tenant: 't2', gpus: { count: 2, model: H100 } };
    const [a, b] = await Promise.all([planner.request(ask), planner.request(ask)]);
    expect(a).toMatchObject({ ok: true, existing: false, node: 'gpu-01', gpuUuids: ['GPU-gpu-01-6', 'GPU-gpu-01-7'] });
    expect(b).toMatchObject({ ok: true, existing: true, node: 'gpu-01' });
    await planner.release('t2/x');
    expect(await planner.request({ ...ask, workspace: 't2/y' })).toMatchObject({ ok: true, node: 'gpu-01', gpuUuids: ['GPU-gpu-01-6', 'GPU-gpu-01-7'] });
  });
});

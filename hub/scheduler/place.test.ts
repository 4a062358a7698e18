import { describe, expect, it } from 'vitest';
import { fleet, gpus, H100, L40, node } from '../../test/scheduler/fleet-fixture.js';
import type { PlacementRequest } from './place.js';
import { formatBytes, place, recheckPlacement } from './place.js';

const Gi = 1024 ** 3;
const req = (more: Partial<PlacementRequest> = {}): PlacementRequest => ({ workspace: 'beta/new', tenant: 'beta', gpus: { count: 2, model: H100 }, ...more });

describe('place: the chosen node and GPUs', () => {
  const cases: Array<[string, PlacementRequest, 'binpack' | 'spread', string, string[]]> = [
    ['bin-pack picks the fullest node that fits; tie gpu-01/gpu-03 goes to the first name', req(), 'binpack', 'gpu-01', ['GPU-gpu-01-6', 'GPU-gpu-01-7']],
    ['spread picks the emptiest node', req(), 'spread', 'gpu-02', ['GPU-gpu-02-0', 'GPU-gpu-02-1']],
    ['3 GPUs fit only on gpu-02', req({ gpus: { count: 3, model: H100 } }), 'binpack', 'gpu-02', ['GPU-gpu-02-0', 'GPU-gpu-02-1', 'GPU-gpu-02-2']],
    ['the selector narrows to zone eu-2; the unhealthy GPU is skipped', req({ nodeSelector: { zone: 'eu-2' } }), 'binpack', 'gpu-03', ['GPU-gpu-03-2', 'GPU-gpu-03-3']],
    ['no model: any model, bin-pack over all nodes', req({ gpus: { count: 4 } }), 'binpack', 'l40-01', ['GPU-l40-01-0', 'GPU-l40-01-1', 'GPU-l40-01-2', 'GPU-l40-01-3']],
    ['L40S by model', req({ gpus: { count: 1, model: L40 } }), 'binpack', 'l40-01', ['GPU-l40-01-0']],
    ['a CPU-only workspace goes where the fewest GPUs are free', req({ gpus: { count: 0 }, cpus: 2 }), 'binpack', 'gpu-01', []],
    ['cpu after reservations and allocations: gpu-03 has 64 − 4 − 56 = 4 left', req({ cpus: 4, nodeSelector: { zone: 'eu-2' } }), 'binpack', 'gpu-03', ['GPU-gpu-03-2', 'GPU-gpu-03-3']],
  ];
  for (const [name, r, strategy, nodeName, uuids] of cases) {
    it(name, () => {
      const p = place(r, fleet(), { strategy });
      expect(p.ok && { node: p.node, gpus: p.gpuUuids }).toEqual({ node: nodeName, gpus: uuids });
    });
  }

  it('explains the choice in a commit message', () => {
    const p = place(req({ cpus: 4, memoryBytes: 32 * Gi }), fleet());
    expect(p.explanation).toBe([
      'place beta/new on gpu-01',
      '',
      `tenant beta: 2 × ${H100} (GPU-gpu-01-6, GPU-gpu-01-7), 4 cpu, 32Gi memory.`,
      '3 nodes fit; bin-pack: fewest free GPUs chose gpu-01 (2 free GPUs before, 0 after); ties go to the first name.',
      `ruled out: 1 node: profile ceph-node hosts no workspaces; 1 node: offline; 1 node: draining; 1 node: not enough free ${H100} (need 2).`,
    ].join('\n'));
  });

  it('returns the existing placement of a workspace that already holds one', () => {
    const p = place(req({ workspace: 'beta/six' }), fleet());
    expect(p).toMatchObject({ ok: true, existing: true, node: 'gpu-01', gpuUuids: ['GPU-gpu-01-3', 'GPU-gpu-01-4', 'GPU-gpu-01-5'], explanation: 'beta/six is already placed on gpu-01' });
  });
});

describe('place: refusals, per reason and count', () => {
  const refusals: Array<[string, PlacementRequest, string]> = [
    ['too many GPUs', req({ gpus: { count: 9, model: H100 } }),
      `4 nodes: not enough free ${H100} (need 9); 1 node: profile ceph-node hosts no workspaces; 1 node: offline; 1 node: draining`],
    ['selector matches nothing that fits', req({ gpus: { count: 3, model: H100 }, nodeSelector: { zone: 'eu-2' } }),
      // gpu-03 has 2 free + 1 unhealthy H100: it would fit but for the unhealthy GPU, so the reason names it
      `3 nodes: labels do not match zone=eu-2; 1 node: profile ceph-node hosts no workspaces; 1 node: offline; 1 node: draining; node gpu-03: GPU-gpu-03-1 unhealthy (reported unhealthy)`],
    ['cpu', req({ cpus: 100 }),
      `3 nodes: not enough free cpu (need 100); 1 node: profile ceph-node hosts no workspaces; 1 node: offline; 1 node: draining; 1 node: not enough free ${H100} (need 2)`],
    ['memory', req({ memoryBytes: 1024 * Gi }),
      `3 nodes: not enough free memory (need 1Ti); 1 node: profile ceph-node hosts no workspaces; 1 node: offline; 1 node: draining; 1 node: not enough free ${H100} (need 2)`],
    ['one cpu more than gpu-03 has left', req({ cpus: 5, nodeSelector: { zone: 'eu-2' } }),
      '3 nodes: labels do not match zone=eu-2; 1 node: profile ceph-node hosts no workspaces; 1 node: offline; 1 node: draining; 1 node: not enough free cpu (need 5)'],
    ['quota', req({ tenant: 'acme', workspace: 'acme/more' }), 'tenant acme: quota 4 GPUs, holds 3, asks 2'],
  ];
  for (const [name, r, text] of refusals) {
    it(name, () => {
      const p = place(r, fleet());
      expect(p.ok).toBe(false);
      expect(p.explanation).toBe(`no placement for ${r.workspace}: ${text}`);
    });
  }

  it('lists reasons with counts as data too', () => {
    const p = place(req({ gpus: { count: 9, model: H100 } }), fleet());
    expect(!p.ok && p.reasons).toEqual([
      { reason: `not enough free ${H100} (need 9)`, nodes: 4 },
      { reason: 'profile ceph-node hosts no workspaces', nodes: 1 },
      { reason: 'offline', nodes: 1 },
      { reason: 'draining', nodes: 1 },
    ]);
  });

  it('says so when the fleet is empty, and rejects a bad request', () => {
    expect(place(req(), { nodes: [], allocations: [], tenants: [] }).explanation).toBe('no placement for beta/new: no nodes in the fleet');
    expect(() => place(req({ gpus: { count: -1 } }), fleet())).toThrow('gpus.count must be a whole number');
  });
});

describe('place: unhealthy GPUs', () => {
  const sick = (problems: string[]) => {
    const f = fleet();
    return { ...f, nodes: f.nodes.map((n) => (n.name === 'gpu-03' ? { ...n, gpus: n.gpus.map((g) => (g.healthy ? g : { ...g, problems })) } : n)) };
  };

  it('never offers an unhealthy GPU, and the refusal names it with its problems', () => {
    const p = place(req({ gpus: { count: 3, model: H100 }, nodeSelector: { zone: 'eu-2' } }), sick(['ecc_uncorrected', 'row_remap_pending']));
    expect(!p.ok && p.reasons.at(-1)).toEqual({ reason: 'node gpu-03: GPU-gpu-03-1 unhealthy (ecc_uncorrected, row_remap_pending)', nodes: 1 });
    expect(p.explanation).toContain('; node gpu-03: GPU-gpu-03-1 unhealthy (ecc_uncorrected, row_remap_pending)');
  });

  it('redirects to a healthy node when one fits', () => {
    const f = sick(['fallen_off_bus']);
    // gpu-03's two healthy free GPUs serve a request for two; once one of them is sick too, bin-pack goes to gpu-01
    const p = place(req({ gpus: { count: 2, model: H100 }, nodeSelector: { zone: 'eu-2' } }), f);
    expect(p.ok && p.gpuUuids).toEqual(['GPU-gpu-03-2', 'GPU-gpu-03-3']);
    const all = { ...f, nodes: f.nodes.map((n) => (n.name === 'gpu-03' ? { ...n, gpus: n.gpus.map((g) => (g.uuid === 'GPU-gpu-03-2' ? { ...g, healthy: false, problems: ['ecc_uncorrected'] } : g)) } : n)) };
    const moved = place(req({ gpus: { count: 2, model: H100 } }), all);
    expect(moved.ok && moved.node).toBe('gpu-01');
  });

  it('does not name unhealthy GPUs that would not have made the node fit', () => {
    const p = place(req({ gpus: { count: 4, model: H100 }, nodeSelector: { zone: 'eu-2' } }), sick(['ecc_uncorrected']));
    expect(!p.ok && p.reasons.at(-1)).toEqual({ reason: `not enough free ${H100} (need 4)`, nodes: 1 });
  });

  it('leaves a workspace on a GPU that turned unhealthy where it is (the operator decides)', () => {
    const f = fleet();
    const held = { ...f, nodes: f.nodes.map((n) => (n.name === 'gpu-03' ? { ...n, gpus: n.gpus.map((g) => (g.uuid === 'GPU-gpu-03-0' ? { ...g, healthy: false, problems: ['fallen_off_bus'] } : g)) } : n)) };
    expect(place(req({ workspace: 'beta/one' }), held)).toMatchObject({ ok: true, existing: true, node: 'gpu-03', gpuUuids: ['GPU-gpu-03-0'] });
  });

  it('the commit re-check refuses a decided GPU that turned unhealthy meanwhile', () => {
    const p = place(req({ gpus: { count: 2, model: H100 }, nodeSelector: { zone: 'eu-2' } }), fleet());
    if (!p.ok) throw new Error('fixture must place');
    const f = fleet();
    const now = { ...f, nodes: f.nodes.map((n) => (n.name === 'gpu-03' ? { ...n, gpus: n.gpus.map((g) => (g.uuid === 'GPU-gpu-03-3' ? { ...g, healthy: false, problems: ['row_remap_failed'] } : g)) } : n)) };
    expect(recheckPlacement(p, req({ gpus: { count: 2, model: H100 }, nodeSelector: { zone: 'eu-2' } }), now)?.reasons).toEqual([{ reason: 'node gpu-03: GPU-gpu-03-3 unhealthy (row_remap_failed)', nodes: 1 }]);
  });
});

describe('place: determinism', () => {
  it('gives the same answer for the same input, whatever the node order', () => {
    const a = fleet();
    const b = { ...fleet(), nodes: [...fleet().nodes].reverse() };
    for (const r of [req(), req({ gpus: { count: 4 } }), req({ gpus: { count: 9, model: H100 } })]) {
      expect(place(r, a)).toEqual(place(r, a));
      expect(place(r, b)).toEqual(place(r, a));
    }
  });

  it('does not change the snapshot', () => {
    const snap = fleet();
    const before = JSON.stringify(snap);
    place(req(), snap);
    expect(JSON.stringify(snap)).toBe(before);
  });

  it('formats byte counts for messages', () => {
    expect([formatBytes(16 * Gi), formatBytes(512 * 1024 ** 2), formatBytes(1000)]).toEqual(['16Gi', '512Mi', '1000']);
    expect(node('x', { gpus: gpus('x', 1, H100) }).gpus[0]?.uuid).toBe('GPU-x-0');
  });
});

describe('recheckPlacement: the commit judges the decision again with place() itself', () => {
  const decided = () => {
    const p = place(req(), fleet());
    if (!p.ok) throw new Error('fixture must place');
    return p;
  };

  it('accepts the decision on an unchanged fleet', () => {
    expect(recheckPlacement(decided(), req(), fleet())).toBeUndefined();
  });

  it('refuses when a decided GPU was taken meanwhile, the node drained or is gone, or the quota filled', () => {
    const p = decided();
    const f = fleet();
    const taken = { ...f, allocations: [...f.allocations, { workspace: 'alpha/late', tenant: 'alpha', node: p.node, gpuUuids: [p.gpuUuids[0]!], cpus: 0, memoryBytes: 0 }] };
    expect(recheckPlacement(p, req(), taken)?.reasons).toEqual([{ reason: `not enough free ${H100} (need 2)`, nodes: 1 }]);
    const drained = { ...f, nodes: f.nodes.map((n) => (n.name === p.node ? { ...n, drain: true } : n)) };
    expect(recheckPlacement(p, req(), drained)?.reasons).toEqual([{ reason: 'draining', nodes: 1 }]);
    const gone = { ...f, nodes: f.nodes.filter((n) => n.name !== p.node) };
    expect(recheckPlacement(p, req(), gone)?.reasons).toEqual([{ reason: `node ${p.node} is gone`, nodes: 1 }]);
    const full = { ...f, tenants: [...f.tenants.filter((t) => t.name !== 'beta'), { name: 'beta', maxGpus: 1 }] };
    expect(recheckPlacement(p, req(), full)?.reasons[0]?.reason).toMatch(/^tenant beta: quota 1 GPU, holds \d+, asks 2$/);
  });
});

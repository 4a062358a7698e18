import { describe, expect, it } from 'vitest';
import { countByProfile, fleetView, storageSummary, type FleetInput } from './fleet-view.js';
import type { InfraRepo } from '../../common/infra/model.js';

const NOW = Date.parse('2026-11-27T12:00:00Z');

function repo(nodes: Array<{ name: string; profile: string; drain?: boolean; gpus?: string[] }>, held: Record<string, string[]> = {}): InfraRepo {
  const doc = (spec: Record<string, unknown>, name: string) => ({ doc: { apiVersion: 'foundry.cloud/v1', metadata: { name }, spec }, source: { file: 'x.yaml' } });
  return {
    revision: 'a'.repeat(40),
    nodes: new Map(nodes.map((n) => [n.name, doc({ profile: n.profile, drain: n.drain, labels: { zone: 'fsn1' }, gpus: (n.gpus ?? []).map((uuid) => ({ uuid, model: 'H100' })) }, n.name)])),
    workspaces: new Map(Object.entries(held).map(([w, uuids]) => [w, doc({ tenant: 'acme', template: 't', gpus: { count: uuids.length, uuids } }, w)])),
  } as unknown as InfraRepo;
}

function input(over: Partial<FleetInput>): FleetInput {
  return { nodes: [], connected: new Set(), enrollments: new Map(), statuses: new Map(), telemetry: new Map(), repo: undefined, now: NOW, ...over };
}

const node = (name: string, lastSeenAt: string | null = '2026-11-27T11:59:00Z', gpus: string[] = []) => ({ name, status: 'connected', lastSeenAt, agentVersion: '0.1.0', appliedRevision: 'b'.repeat(40), revoked: false, inventory: { gpus: gpus.map((uuid) => ({ uuid, model: 'H100', memoryTotalMiB: 81559 })) } });
const sample = (uuid: string, util: number | null) => ({ uuid, utilizationGpuPct: util, memoryUsedMiB: 100, memoryTotalMiB: 81559, powerDrawW: 70, temperatureC: 30 });

describe('fleetView', () => {
  it('derives online, degraded, offline, never-connected and draining, counts GPUs and raises alerts with reasons', () => {
    const v = fleetView(input({
      nodes: [node('gpu-01', undefined, ['G1', 'G2']), node('gpu-02', undefined, ['G3']), node('gpu-03', '2026-11-27T10:00:00Z', ['G4']), node('gpu-04', undefined, []), node('ceph-01', null), { ...node('gone'), revoked: true }],
      connected: new Set(['gpu-01', 'gpu-02', 'gpu-04']),
      repo: repo([{ name: 'gpu-01', profile: 'gpu-node', gpus: ['G1', 'G2'] }, { name: 'gpu-02', profile: 'gpu-node' }, { name: 'gpu-03', profile: 'gpu-node' }, { name: 'gpu-04', profile: 'gpu-node', drain: true }, { name: 'ceph-01', profile: 'ceph-node' }], { 'acme-a': ['G1'] }),
      statuses: new Map([['gpu-02', { conditions: [{ type: 'Ready', status: 'False', reason: 'ApplyFailed' }], resources: [{ id: 'ws.x.main', conditions: [{ type: 'Stalled', status: 'True', reason: 'ImageMissing' }] }] }]]),
      telemetry: new Map([['gpu-01', { at: NOW - 5000, gpus: [sample('G1', 90), sample('G2', 3)] }], ['gpu-02', { at: NOW - 5000, gpus: [sample('G3', 50)] }]]),
    }));
    expect(v.nodes.map((n) => [n.name, n.state, n.reasons])).toEqual([
      ['gpu-01', 'online', []],
      ['gpu-02', 'degraded', ['not ready: ApplyFailed', 'stalled: ws.x.main ImageMissing']],
      ['gpu-03', 'offline', ['agent not connected']],
      ['gpu-04', 'draining', []],
      ['ceph-01', 'never-connected', ['never connected']],
    ]);
    expect(v.gpus).toEqual({ total: 4, allocated: 1, free: 3, busy: 2 });
    expect(v.nodes[0]?.gpus.map((g) => [g.uuid, g.workspace, g.utilizationPct])).toEqual([['G1', 'acme-a', 90], ['G2', null, 3]]);
    expect(v.alerts).toEqual([
      { severity: 'warning', kind: 'reconcile-stalled', node: 'gpu-02', message: 'gpu-02: reconcile stalled (ws.x.main: ImageMissing)' },
      { severity: 'critical', kind: 'node-offline', node: 'gpu-03', message: 'gpu-03 is offline since 2026-11-27T10:00:00Z' },
    ]);
    expect(countByProfile(v.nodes)).toEqual({ 'gpu-node': { online: 1, degraded: 1, offline: 1, 'never-connected': 0, draining: 1 }, 'ceph-node': { online: 0, degraded: 0, offline: 0, 'never-connected': 1, draining: 0 } });
    expect(v.nodes[0]).toMatchObject({ profile: 'gpu-node', labels: { zone: 'fsn1' }, desiredRevision: 'a'.repeat(40), appliedRevision: 'b'.repeat(40) });
  });

  it('shows a connected node that reports Ready=False as degraded, never online, with connection and readiness apart', () => {
    const ready = { type: 'Ready', status: 'False', reason: 'RuntimeUnavailable', message: 'podman socket /run/podman/podman.sock does not answer' };
    const v = fleetView(input({ nodes: [node('gpu-01')], connected: new Set(['gpu-01']), statuses: new Map([['gpu-01', { conditions: [ready], resources: [], observedRevision: 'c'.repeat(40), lastAppliedRevision: null }]]) }));
    expect(v.nodes[0]).toMatchObject({ state: 'degraded', connected: true, ready, reasons: ['not ready: RuntimeUnavailable'] });
    // Ready=True and Ready=Unknown (reconciling) leave a connected node online.
    for (const status of ['True', 'Unknown']) {
      const ok = fleetView(input({ nodes: [node('gpu-01')], connected: new Set(['gpu-01']), statuses: new Map([['gpu-01', { conditions: [{ ...ready, status, reason: 'ReconciliationSucceeded' }], resources: [] }]]) }));
      expect(ok.nodes[0]?.state).toBe('online');
    }
  });

  it('counts nodes declared in Git that no agent ever enrolled or connected, as never-connected', () => {
    const v = fleetView(input({
      nodes: [node('gpu-01')],
      connected: new Set(['gpu-01']),
      repo: repo([{ name: 'gpu-01', profile: 'gpu-node' }, { name: 'gpu-09', profile: 'gpu-node', gpus: ['G9'] }, { name: 'svc-01', profile: 'service-node' }]),
    }));
    expect(v.nodes.map((n) => [n.name, n.state, n.connected, n.reasons])).toEqual([
      ['gpu-01', 'online', true, []],
      ['gpu-09', 'never-connected', false, ['never connected: declared in Git, no agent enrolled']],
      ['svc-01', 'never-connected', false, ['never connected: declared in Git, no agent enrolled']],
    ]);
    expect(countByProfile(v.nodes)).toEqual({
      'gpu-node': { online: 1, degraded: 0, offline: 0, 'never-connected': 1, draining: 0 },
      'service-node': { online: 0, degraded: 0, offline: 0, 'never-connected': 1, draining: 0 },
    });
    // Its declared GPUs count as capacity, as the scheduler sees them, without a sample error (nothing to sample).
    expect(v.nodes[1]?.gpus.map((g) => [g.uuid, g.error])).toEqual([['G9', null]]);
    expect(v.alerts).toEqual([]);
  });

  it('shows the revision applied completely, from the status or the agent\'s hello, and the one it works on', () => {
    const withStatus = (st: Record<string, unknown>, hello: string | null) =>
      fleetView(input({ nodes: [{ ...node('gpu-01'), appliedRevision: hello }], connected: new Set(['gpu-01']), statuses: new Map([['gpu-01', { conditions: [], resources: [], ...st }]]) })).nodes[0];
    expect(withStatus({ lastAppliedRevision: 'c'.repeat(40), observedRevision: 'c'.repeat(40) }, null)).toMatchObject({ appliedRevision: 'c'.repeat(40), observedRevision: 'c'.repeat(40) });
    expect(withStatus({ lastAppliedRevision: null, observedRevision: 'd'.repeat(40) }, 'b'.repeat(40))).toMatchObject({ appliedRevision: 'b'.repeat(40), observedRevision: 'd'.repeat(40) });
    expect(withStatus({ lastAppliedRevision: null, observedRevision: 'd'.repeat(40) }, null)).toMatchObject({ appliedRevision: null, observedRevision: 'd'.repeat(40) });
  });

  it('flags a connected node whose GPUs stopped reporting (stale or missing samples) as degraded with a gpu-error alert', () => {
    const v = fleetView(input({ nodes: [node('gpu-01', undefined, ['G1'])], connected: new Set(['gpu-01']), telemetry: new Map([['gpu-01', { at: NOW - 300_000, gpus: [sample('G1', 80)] }]]) }));
    expect(v.nodes[0]?.state).toBe('degraded');
    expect(v.nodes[0]?.gpus[0]?.utilizationPct).toBeNull();
    expect(v.alerts).toEqual([{ severity: 'warning', kind: 'gpu-error', node: 'gpu-01', message: 'gpu-01 G1: no recent sample (nvidia-smi not answering or gpu lost)' }]);
    expect(v.gpus.busy).toBe(0);
  });

  it('shows each GPU\'s reported health (unknown without one), and an unhealthy GPU degrades its node with a critical alert', () => {
    const v = fleetView(input({
      nodes: [node('gpu-01', undefined, ['G1', 'G2', 'G3'])],
      connected: new Set(['gpu-01']),
      repo: repo([{ name: 'gpu-01', profile: 'gpu-node', gpus: ['G1', 'G2', 'G3'] }], { 'acme-a': ['G1'] }),
      telemetry: new Map([['gpu-01', { at: NOW - 5000, gpus: [
        { ...sample('G1', 90), health: { state: 'unhealthy', problems: ['ecc_uncorrected'] } },
        { ...sample('G2', 0), health: { state: 'degraded', problems: ['thermal_throttle'] } },
        sample('G3', 0),
      ] }]]),
    }));
    expect(v.nodes[0]?.gpus.map((g) => [g.uuid, g.health])).toEqual([
      ['G1', { state: 'unhealthy', problems: ['ecc_uncorrected'] }], ['G2', { state: 'degraded', problems: ['thermal_throttle'] }], ['G3', { state: 'unknown', problems: [] }],
    ]);
    expect([v.nodes[0]?.state, v.nodes[0]?.reasons]).toEqual(['degraded', ['1 gpu unhealthy (ecc_uncorrected)']]);
    expect(v.alerts).toEqual([{ severity: 'critical', kind: 'gpu-unhealthy', node: 'gpu-01', message: 'gpu-01 G1: unhealthy (ecc_uncorrected); not offered to new workspaces, acme-a still runs on it' }]);
  });

  it('shows a connected node whose Podman cannot serve workspaces (PodmanCapabilities False) as degraded, with the reason and an alert saying what to install', () => {
    const caps = { type: 'PodmanCapabilities', status: 'False', reason: 'NoPauseBinary', message: 'install it (apt-get install --no-install-recommends catatonit)' };
    const v = fleetView(input({ nodes: [node('gpu-01'), node('gpu-02', '2026-11-27T10:00:00Z')], connected: new Set(['gpu-01']), statuses: new Map([['gpu-01', { conditions: [{ type: 'Ready', status: 'True', reason: 'ReconciliationSucceeded' }, caps] }], ['gpu-02', { conditions: [caps] }]]) }));
    expect(v.nodes.map((n) => [n.name, n.state, n.reasons])).toEqual([['gpu-01', 'degraded', ['PodmanCapabilities: NoPauseBinary']], ['gpu-02', 'offline', ['agent not connected']]]);
    expect(v.alerts.filter((a) => a.kind === 'runtime-capability')).toEqual([{ severity: 'warning', kind: 'runtime-capability', node: 'gpu-01', message: 'gpu-01: PodmanCapabilities NoPauseBinary (install it (apt-get install --no-install-recommends catatonit))' }]);
  });

  it('takes profile and labels from the enrollment when the repo has no Node file yet', () => {
    const v = fleetView(input({ nodes: [node('n1')], enrollments: new Map([['n1', { profile: 'service-node', labels: { role: 'svc' } }]]) }));
    expect(v.nodes[0]).toMatchObject({ profile: 'service-node', labels: { role: 'svc' }, desiredRevision: null });
  });

  it('keeps each node\'s recent storage report, and drops stale ones and those of disconnected nodes', () => {
    const storage = { source: 'ceph' as const, totalBytes: 3e12, usedBytes: 6e11, availableBytes: 2.4e12, pools: [{ name: 'rbd', storedBytes: 1e11, maxAvailableBytes: 7e11 }] };
    const v = fleetView(input({
      nodes: [node('ceph-01'), node('ceph-02'), node('ceph-03')],
      connected: new Set(['ceph-01', 'ceph-02']),
      telemetry: new Map([['ceph-01', { at: NOW - 5000, gpus: [], storage }], ['ceph-02', { at: NOW - 300_000, gpus: [], storage }], ['ceph-03', { at: NOW - 5000, gpus: [], storage }]]),
    }));
    expect(v.nodes.map((n) => n.storage)).toEqual([{ ...storage, at: NOW - 5000 }, null, null]);
  });
});

describe('storageSummary', () => {
  const view = (name: string, storage: Parameters<typeof storageSummary>[0][number]['storage']) => ({ ...fleetView(input({ nodes: [node(name)] })).nodes[0]!, storage });
  const ceph = (at: number, used: number) => ({ source: 'ceph' as const, totalBytes: 3e12, usedBytes: used, availableBytes: 3e12 - used, pools: [{ name: 'rbd', storedBytes: used / 2, maxAvailableBytes: 1e12 }], at });

  it('takes cluster totals once from the newest ceph df report, never summing the Ceph nodes', () => {
    const s = storageSummary([view('ceph-01', ceph(NOW - 9000, 5e11)), view('ceph-02', ceph(NOW - 1000, 6e11)), view('ceph-03', { source: 'mounts', totalBytes: 100, usedBytes: 10, availableBytes: 90, error: 'ceph df failed: exit 1', at: NOW }), view('gpu-01', null)]);
    expect(s).toEqual({
      reported: true, source: 'ceph', totalBytes: 3e12, usedBytes: 6e11, availableBytes: 2.4e12, pools: [{ name: 'rbd', storedBytes: 3e11, maxAvailableBytes: 1e12 }],
      nodes: ['ceph-01', 'ceph-02', 'ceph-03'], errors: [{ node: 'ceph-03', error: 'ceph df failed: exit 1' }],
    });
  });

  it('sums the mount fallbacks of nodes without ceph df, ignoring empty ones; nothing reported is null, not 0', () => {
    const m = (total: number, error?: string) => ({ source: 'mounts' as const, totalBytes: total, usedBytes: total / 4, availableBytes: (total * 3) / 4, at: NOW, ...(error === undefined ? {} : { error }) });
    expect(storageSummary([view('a', m(400)), view('b', m(800)), view('c', m(0, 'ceph cli not found'))])).toEqual({
      reported: true, source: 'mounts', totalBytes: 1200, usedBytes: 300, availableBytes: 900, pools: [], nodes: ['a', 'b', 'c'], errors: [{ node: 'c', error: 'ceph cli not found' }],
    });
    expect(storageSummary([view('c', m(0, 'ceph cli not found')), view('gpu-01', null)])).toEqual({
      reported: false, source: null, totalBytes: null, usedBytes: null, availableBytes: null, pools: [], nodes: ['c'], errors: [{ node: 'c', error: 'ceph cli not found' }],
    });
  });
});

/** `foundry agent plan`: load → render → plan, against nothing or against what an observer reports. */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { planJson, planNode, planText, type PlanObserver } from '../../cli/agent-plan.js';
import { renderNodeState } from '../../agent/render.js';
import { loadInfraDir } from '../../common/infra/load.js';
import type { ObservedResource } from '../../agent/desired.js';
import { EXAMPLE_INFRA_DIR, PACKAGE_ROOT } from '../../common/paths.js';

const BIN = join(PACKAGE_ROOT, 'bin', 'foundry.js');

function observed(id: string, kind: ObservedResource['kind'], specHash: string | undefined, state: ObservedResource['state'], facts: Record<string, string> = {}): ObservedResource {
  return { kind, id, name: id, runtimeId: `rt-${id}`, owner: { node: 'gpu-01' }, specHash, state, reclaimPolicy: 'Retain', facts };
}

describe('agent plan', () => {
  it('plans against an empty node when not observing, and says so', async () => {
    const report = await planNode(EXAMPLE_INFRA_DIR, 'svc-02', {});
    expect(report.note).toBe('not observed (--no-observe): planning against an empty node');
    expect(report.plan.counts).toEqual({ create: 11, recreate: 0, start: 0, stop: 0, remove: 0, noop: 0 });
    expect(planText(report).split('\n').slice(0, 3)).toEqual([
      'node svc-02 (profile service-node) at revision worktree, observed nothing',
      'note: not observed (--no-observe): planning against an empty node',
      'create   network   svc.guacamole.net  (create: declared and not present)',
    ]);
  });

  it('svc-01 runs GitLab, Langfuse and the monitoring Service (Prometheus and Grafana with deploy/)', async () => {
    const report = await planNode(EXAMPLE_INFRA_DIR, 'svc-01', {});
    expect(report.plan.counts).toEqual({ create: 15, recreate: 0, start: 0, stop: 0, remove: 0, noop: 0 });
    expect(report.plan.actions.filter((a) => a.id.startsWith('svc.monitoring.')).map((a) => a.id).sort()).toEqual([
      'svc.monitoring.grafana', 'svc.monitoring.net', 'svc.monitoring.prometheus', 'svc.monitoring.vol.grafana-data', 'svc.monitoring.vol.prometheus-data',
    ]);
  });

  it('plans against what the observer hook reports: unchanged, start, recreate, remove', async () => {
    const desired = renderNodeState(await loadInfraDir(EXAMPLE_INFRA_DIR), 'gpu-01');
    const hash = (id: string) => desired.resources.find((r) => r.id === id)!.specHash;
    const fake: PlanObserver = async () => ({
      runtime: 'fake',
      resources: [
        observed('ws.acme-alice.net', 'network', hash('ws.acme-alice.net'), 'unknown'),
        observed('node.node-exporter', 'container', hash('node.node-exporter'), 'stopped'),
        observed('ws.acme-alice.qdrant', 'container', hash('ws.acme-alice.qdrant'), 'running'),
        observed('ws.acme-alice.ollama', 'container', 'oldhash', 'running', { image: 'docker.io/ollama/ollama:0.5.4' }),
        observed('ws.old-ws.web', 'container', 'x', 'running'),
      ],
    });
    const report = await planNode(EXAMPLE_INFRA_DIR, 'gpu-01', {}, fake);
    expect(report.runtime).toBe('fake');
    expect(report.note).toBeUndefined();
    const byId = new Map(report.plan.actions.map((a) => [a.id, `${a.type}: ${a.reason}`]));
    expect(byId.get('ws.acme-alice.net')).toBe('noop: unchanged');
    expect(byId.get('node.node-exporter')).toBe('start: start: found stopped, expected running (stopped outside the agent or crashed)');
    expect(byId.get('ws.acme-alice.qdrant')).toBe('noop: unchanged');
    expect(byId.get('ws.acme-alice.ollama')).toBe('recreate: recreate: image changed from docker.io/ollama/ollama:0.5.4 to docker.io/ollama/ollama:0.5.7');
    expect(byId.get('ws.old-ws.web')).toBe('remove: remove: no longer declared');
    expect(report.plan.counts).toEqual({ create: 23, recreate: 1, start: 1, stop: 0, remove: 1, noop: 2 });
  });

  it('CLI: --json, unknown node (exit 1), invalid repo refused (exit 1)', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'agent', 'plan', ...args], { encoding: 'utf8' });
    const ok = run('--repo', EXAMPLE_INFRA_DIR, '--node', 'ceph-01', '--json', '--no-observe');
    expect(ok.status).toBe(0);
    const body = JSON.parse(ok.stdout) as { note: string; actions: { type: string; id: string }[] };
    expect(body.note).toBe('not observed (--no-observe): planning against an empty node');
    expect(body.actions.map((a) => `${a.type} ${a.id}`)).toEqual(['create node.ceph-mgr', 'create node.ceph-mon', 'create node.ceph-osd']);
    const unknown = run('--repo', EXAMPLE_INFRA_DIR, '--node', 'gpu-99', '--no-observe');
    expect([unknown.status, unknown.stderr]).toEqual([1, 'foundry: node gpu-99 is not declared in the infra repo (add nodes/gpu-99.yaml) (node/gpu-99)\n']);
    const invalid = run('--repo', join(PACKAGE_ROOT, 'fixtures', 'bad-infra', 'same-gpu'), '--node', 'gpu-01', '--no-observe');
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toContain('the infra repo is invalid at worktree; the agent would keep its last good revision:\nworkspaces/bob.yaml:9:29: spec.gpus.uuids[0]');
    expect(run('--node', 'gpu-01').status).toBe(2);
  });

  it('an observer that cannot list one runtime plans only against the others, and says which', async () => {
    const listed: PlanObserver = async () => ({ runtime: 'podman', resources: [observed('ws.gone.web', 'container', 'x', 'running')], unavailableKeys: ['vm/libvirt'], note: 'libvirt unreachable (virsh: failed to connect): its resources are planned against an empty runtime' });
    const report = await planNode(EXAMPLE_INFRA_DIR, 'gpu-01', {}, listed);
    expect(report.note).toBe('libvirt unreachable (virsh: failed to connect): its resources are planned against an empty runtime');
    expect(report.plan.actions.find((a) => a.id === 'ws.gone.web')?.type).toBe('remove');
  });

  it('CLI: --node falls back to the node of the agent configuration; without either it is refused', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'agent', 'plan', ...args], { encoding: 'utf8' });
    const none = run('--repo', EXAMPLE_INFRA_DIR, '--no-observe');
    expect([none.status, none.stderr]).toEqual([2, 'foundry: no node to plan for: pass --node, or --config with an agent configuration that names one\n']);
  });

  it('--json carries a refused prune as the message and its typed fields', async () => {
    const gone = (ws: string): ObservedResource => ({ ...observed(`ws.${ws}.web`, 'container', 'x', 'running'), owner: { node: 'gpu-01', workspace: ws, tenant: 'acme' } });
    const report = await planNode(EXAMPLE_INFRA_DIR, 'gpu-01', {}, async () => ({ runtime: 'fake', resources: [gone('old-a'), gone('old-b')] }));
    const json = planJson(report) as { pruneRefused: string; pruneRefusal: unknown; actions: { type: string; id: string }[] };
    expect(json.pruneRefused).toMatch(/^refusing to prune 2 of 2 workspaces and services of node gpu-01 at once \(workspace old-a, workspace old-b\)/);
    expect(json.pruneRefusal).toEqual({ rule: 'units', removedUnits: [{ scope: 'workspace', name: 'old-a' }, { scope: 'workspace', name: 'old-b' }], held: 2, managed: 2 });
    expect(json.actions.filter((a) => a.id.startsWith('ws.old-')).map((a) => a.type)).toEqual(['noop', 'noop']);
  });
});

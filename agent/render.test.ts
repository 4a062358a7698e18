import { describe, expect, it } from 'vitest';
import { renderNodeState } from './render.js';
import { repoOf } from '../test/support/infra-repo.js';
import type { DesiredContainer, DesiredVm } from './desired.js';

const GPU_A = 'GPU-11111111-2222-3333-4444-555555555555';
const GPU_B = 'GPU-66666666-7777-8888-9999-000000000000';

function fleet(extra: Parameters<typeof repoOf>[0] = []) {
  return repoOf([
    { kind: 'Cluster', metadata: { name: 'fc' }, spec: { hubUrl: 'http://127.0.0.1:8080' } },
    { kind: 'NodeProfile', metadata: { name: 'gpu-node' }, spec: { hostsWorkspaces: true, hostsServices: false, containers: [{ name: 'exporter', image: 'quay.io/prometheus/node-exporter:v1.8.2', hostNetwork: true }] } },
    { kind: 'NodeProfile', metadata: { name: 'service-node' }, spec: { hostsServices: true } },
    { kind: 'Node', metadata: { name: 'gpu-01' }, spec: { profile: 'gpu-node', labels: { zone: 'a' }, gpus: [{ uuid: GPU_A, model: 'H100', pciAddress: '0000:17:00.0' }, { uuid: GPU_B, model: 'H100', pciAddress: '0000:18:00.0' }] } },
    { kind: 'Node', metadata: { name: 'svc-01' }, spec: { profile: 'service-node', labels: { zone: 'a', role: 'web' } } },
    { kind: 'Service', metadata: { name: 'searxng' }, spec: { placement: { nodeSelector: { role: 'web' } }, containers: [{ name: 'web', image: 'docker.io/searxng/searxng:2024.1.1', ports: [{ containerPort: 8080, hostPort: 8888 }] }] } },
    { kind: 'Service', metadata: { name: 'zone-agent' }, spec: { placement: { nodeSelector: { zone: 'a' } }, containers: [{ name: 'a', image: 'x:1' }] } },
    { kind: 'WorkspaceTemplate', metadata: { name: 'ai-stack' }, spec: { containers: [
      { name: 'ollama', image: 'docker.io/ollama/ollama:0.5.7', gpus: true, env: { OLLAMA_HOST: '0.0.0.0' }, volumes: [{ name: 'models', mountPath: '/root/.ollama' }], resources: { cpus: 4, memory: '16Gi' } },
      { name: 'qdrant', image: 'docker.io/qdrant/qdrant:v1.12.5', healthcheck: { command: ['true'], interval: '15s' } },
    ] } },
    { kind: 'WorkspaceTemplate', metadata: { name: 'desktop' }, spec: { vm: { name: 'desk', driver: 'libvirt', vcpus: 4, memory: '8Gi', disk: { baseImage: '/var/lib/foundry/images/ubuntu.qcow2', size: '40Gi' }, gpus: true } } },
    { kind: 'Workspace', metadata: { name: 'acme-alice' }, spec: { tenant: 'acme', template: 'ai-stack', node: 'gpu-01', gpus: { count: 1, uuids: [GPU_A] }, env: { OLLAMA_HOST: '127.0.0.1' } } },
    { kind: 'Workspace', metadata: { name: 'acme-desk' }, spec: { tenant: 'acme', template: 'desktop', node: 'gpu-01', gpus: { count: 1, uuids: [GPU_B] }, state: 'stopped', reclaimPolicy: 'Delete' } },
    { kind: 'Workspace', metadata: { name: 'acme-carol' }, spec: { tenant: 'acme', template: 'ai-stack', gpus: { count: 1 } } },
    ...extra,
  ]);
}

describe('renderNodeState', () => {
  it('publishes workspace ports on the node internal address (127.0.0.1 when unset), never all addresses; a declared hostIp wins', () => {
    const tpl = { kind: 'WorkspaceTemplate', metadata: { name: 'web' }, spec: { containers: [{ name: 'app', image: 'x:1', ports: [{ containerPort: 80, app: 'web' }, { containerPort: 81, hostIp: '127.0.0.1' }] }] } };
    const ws = (node: string) => ({ kind: 'Workspace', metadata: { name: `w-${node}` }, spec: { tenant: 'acme', template: 'web', node } });
    const repo = fleet([tpl, ws('gpu-01'), ws('gpu-02'), { kind: 'Node', metadata: { name: 'gpu-02' }, spec: { profile: 'gpu-node', network: { internalAddress: '10.0.1.12' } } }]);
    const ports = (node: string) => (renderNodeState(repo, node).resources.find((r) => r.id === `ws.w-${node}.app`) as DesiredContainer).spec.ports;
    expect(ports('gpu-01')).toEqual([{ containerPort: 80, hostPort: undefined, hostIp: '127.0.0.1', protocol: 'tcp' }, { containerPort: 81, hostPort: undefined, hostIp: '127.0.0.1', protocol: 'tcp' }]);
    expect(ports('gpu-02')).toEqual([{ containerPort: 80, hostPort: undefined, hostIp: '10.0.1.12', protocol: 'tcp' }, { containerPort: 81, hostPort: undefined, hostIp: '127.0.0.1', protocol: 'tcp' }]);
  });

  it('renders the profile baseline, the workspaces on the node, and no services the profile does not host', () => {
    const state = renderNodeState(fleet(), 'gpu-01');
    expect(state.resources.map((r) => `${r.kind} ${r.id} ${r.name}`)).toEqual([
      'container node.exporter fc-node-exporter',
      'network ws.acme-alice.net fc-ws-acme-alice',
      'container ws.acme-alice.ollama fc-ws-acme-alice-ollama',
      'container ws.acme-alice.qdrant fc-ws-acme-alice-qdrant',
      'volume ws.acme-alice.vol.models fc-ws-acme-alice-models',
      'vm ws.acme-desk.vm.desk fc-ws-acme-desk-desk',
    ]);
    expect(state.profile).toBe('gpu-node');
    expect(state.revision).toBe('rev1');
    expect(state.allowMassPrune).toBe(false);
  });

  it('expands a workspace container: its GPUs as CDI devices, merged env, volumes, limits, healthcheck defaults, ownership', () => {
    const state = renderNodeState(fleet(), 'gpu-01');
    const ollama = state.resources.find((r) => r.id === 'ws.acme-alice.ollama') as DesiredContainer;
    expect(ollama.owner).toEqual({ node: 'gpu-01', workspace: 'acme-alice', tenant: 'acme' });
    expect(ollama.run).toBe(true);
    expect(ollama.spec.devices).toEqual([`nvidia.com/gpu=${GPU_A}`]);
    expect(ollama.spec.env).toEqual({ OLLAMA_HOST: '127.0.0.1' });
    expect(ollama.spec.mounts).toEqual([{ type: 'volume', source: 'fc-ws-acme-alice-models', target: '/root/.ollama', readOnly: false }]);
    expect(ollama.spec.cpus).toBe(4);
    expect(ollama.spec.memoryBytes).toBe(16 * 1024 ** 3);
    expect(ollama.spec.network).toBe('fc-ws-acme-alice');
    expect(ollama.spec.aliases).toEqual(['ollama']);
    expect(ollama.spec.restartPolicy).toBe('always');
    expect(ollama.spec.pullPolicy).toBe('IfNotPresent');
    const qdrant = state.resources.find((r) => r.id === 'ws.acme-alice.qdrant') as DesiredContainer;
    expect(qdrant.spec.healthcheck).toEqual({ command: ['true'], intervalMs: 15_000, timeoutMs: 10_000, retries: 3, startPeriodMs: 0 });
    expect(qdrant.spec.devices).toEqual([]);
  });

  it('passes a desktop workspace GPU through by PCI address and keeps it stopped when its state says so', () => {
    const vm = renderNodeState(fleet(), 'gpu-01').resources.find((r) => r.kind === 'vm') as DesiredVm;
    expect(vm.run).toBe(false);
    expect(vm.reclaimPolicy).toBe('Delete');
    expect(vm.spec).toMatchObject({ driver: 'libvirt', vcpus: 4, memoryBytes: 8 * 1024 ** 3, hostDevices: ['0000:18:00.0'], gpuUuids: [GPU_B], disk: { baseImage: '/var/lib/foundry/images/ubuntu.qcow2', sizeBytes: 40 * 1024 ** 3 } });
  });

  it('places services by selector only on nodes whose profile hosts services, each with its own network', () => {
    const state = renderNodeState(fleet(), 'svc-01');
    expect(state.resources.map((r) => r.id)).toEqual(['svc.searxng.net', 'svc.searxng.web', 'svc.zone-agent.a', 'svc.zone-agent.net']);
    const web = state.resources.find((r) => r.id === 'svc.searxng.web') as DesiredContainer;
    expect(web.owner).toEqual({ node: 'svc-01', service: 'searxng' });
    expect(web.spec.ports).toEqual([{ containerPort: 8080, hostPort: 8888, hostIp: undefined, protocol: 'tcp' }]);
  });

  it('is deterministic, and a spec change changes only that resource hash', () => {
    const a = renderNodeState(fleet(), 'gpu-01');
    expect(renderNodeState(fleet(), 'gpu-01')).toEqual(a);
    const changed = fleet();
    const tpl = changed.templates.get('ai-stack')!.doc;
    tpl.spec.containers![1]!.image = 'docker.io/qdrant/qdrant:v1.13.0';
    const b = renderNodeState(changed, 'gpu-01');
    const diff = a.resources.filter((r, i) => r.specHash !== b.resources[i]!.specHash).map((r) => r.id);
    expect(diff).toEqual(['ws.acme-alice.qdrant']);
  });

  it('honours allowMassPrune from the cluster or the node', () => {
    const repo = fleet();
    repo.cluster!.doc.spec.allowMassPrune = true;
    expect(renderNodeState(repo, 'gpu-01').allowMassPrune).toBe(true);
  });

  it('refuses an unknown node with a hint', () => {
    expect(() => renderNodeState(fleet(), 'gpu-99')).toThrow('node gpu-99 is not declared in the infra repo (add nodes/gpu-99.yaml)');
  });

  it('applies profile extends: parent containers first, child flags win', () => {
    const repo = fleet([{ kind: 'NodeProfile', metadata: { name: 'big-gpu' }, spec: { extends: 'gpu-node', containers: [{ name: 'dcgm', image: 'nvcr.io/nvidia/k8s/dcgm-exporter:3.3.9' }] } }]);
    repo.nodes.get('gpu-01')!.doc.spec.profile = 'big-gpu';
    const ids = renderNodeState(repo, 'gpu-01').resources.filter((r) => r.id.startsWith('node.')).map((r) => r.id);
    expect(ids).toEqual(['node.dcgm', 'node.exporter', 'node.net']);
  });
});

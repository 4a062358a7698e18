import { describe, expect, it } from 'vitest';
import { repoOf } from '../../test/support/infra-repo.js';
import { secretRecipients, secretUses } from './recipients.js';

const node = (name: string, profile: string, labels: Record<string, string> = {}) => ({ kind: 'Node', metadata: { name }, spec: { profile, labels } });
const repo = repoOf([
  node('gpu-01', 'gpu-node', { zone: 'a' }),
  node('gpu-02', 'gpu-node', { zone: 'b' }),
  node('svc-01', 'service-node', { zone: 'a' }),
  { kind: 'NodeProfile', metadata: { name: 'gpu-node' }, spec: { containers: [{ name: 'exporter', image: 'x', secrets: [{ name: 'metrics-token', file: '/run/secrets/t' }] }] } },
  { kind: 'NodeProfile', metadata: { name: 'service-node' }, spec: {} },
  { kind: 'Service', metadata: { name: 'langfuse' }, spec: { placement: { node: 'svc-01' }, containers: [{ name: 'web', image: 'x', secrets: [{ name: 'langfuse-salt', env: 'SALT' }, { name: 'tenant-key', source: 'workspace', env: 'K' }] }] } },
  { kind: 'Service', metadata: { name: 'edge' }, spec: { placement: { nodeSelector: { zone: 'a' } }, containers: [{ name: 'proxy', image: 'x', secrets: [{ name: 'tls-key', file: '/run/secrets/tls.key' }] }] } },
  { kind: 'WorkspaceTemplate', metadata: { name: 'stack' }, spec: { containers: [{ name: 'app', image: 'x', secrets: [{ name: 'db-password', env: 'PW' }] }], vm: { name: 'desk', driver: 'libvirt', cloudInit: { secrets: [{ name: 'vnc-password', path: '/etc/vnc' }] } } } },
  { kind: 'Workspace', metadata: { name: 'alice' }, spec: { tenant: 'acme', template: 'stack', node: 'gpu-02' } },
  { kind: 'Workspace', metadata: { name: 'bob' }, spec: { tenant: 'acme', template: 'stack' } },
]);

describe('secretRecipients', () => {
  it('names the nodes where workloads referring to each repo secret are placed', () => {
    expect(Object.fromEntries([...secretRecipients(repo)].map(([k, v]) => [k, v.nodes]))).toEqual({
      'db-password': ['gpu-02'],
      'langfuse-salt': ['svc-01'],
      'metrics-token': ['gpu-01', 'gpu-02'],
      // selector zone=a matches gpu-01 and svc-01 (gpu-node hosts services unless it says otherwise)
      'tls-key': ['gpu-01', 'svc-01'],
      'vnc-password': ['gpu-02'],
    });
    expect(secretRecipients(repo).get('db-password')?.workloads).toEqual(['workspace alice (template stack), container app on gpu-02']);
  });

  it('leaves out workspace-source secrets and unplaced workspaces, and points at each reference', () => {
    const uses = secretUses(repo);
    expect(uses.some((u) => u.secret === 'tenant-key')).toBe(false);
    expect(uses.filter((u) => u.workload.includes('bob'))).toEqual([]);
    const vm = uses.find((u) => u.secret === 'vnc-password')!;
    expect(vm.path).toEqual(['spec', 'vm', 'cloudInit', 'secrets', 0]);
    expect(uses.find((u) => u.secret === 'langfuse-salt')!.path).toEqual(['spec', 'containers', 0, 'secrets', 0]);
  });
});

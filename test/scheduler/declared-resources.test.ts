/**
 * What the scheduler reserves on a node for a workspace (hub: templateResources) and what the agent bills
 * as held on that node (agent: declaredResources over the rendered containers and VM) follow one rule:
 * containers and a libvirt VM take node CPU and memory, an OpenStack VM (on Nova's hosts) takes none.
 * Both sides compute it with common/infra/held-resources.ts.
 */
import { describe, expect, it } from 'vitest';
import { renderNodeState } from '../../agent/render.js';
import { declaredResources } from '../../agent/usage/workspace-allocations.js';
import { templateResources } from '../../hub/scheduler/from-infra.js';
import { repoOf } from '../support/infra-repo.js';

const repo = repoOf([
  { kind: 'Cluster', metadata: { name: 'c' }, spec: { hubUrl: 'https://hub.example.eu' } },
  { kind: 'NodeProfile', metadata: { name: 'gpu-node' }, spec: { hostsWorkspaces: true } },
  { kind: 'Node', metadata: { name: 'n1' }, spec: { profile: 'gpu-node' } },
  { kind: 'Tenant', metadata: { name: 'acme' }, spec: { displayName: 'Acme' } },
  { kind: 'WorkspaceTemplate', metadata: { name: 'apps' }, spec: { containers: [
    { name: 'a', image: 'x/a:1', resources: { cpus: 2, memory: '4Gi' } }, { name: 'b', image: 'x/b:1', resources: { cpus: 0.5, memory: '512Mi' } }, { name: 'c', image: 'x/c:1' }] } },
  { kind: 'WorkspaceTemplate', metadata: { name: 'kvm' }, spec: { vm: { name: 'desk', driver: 'libvirt', vcpus: 4, memory: '8Gi', image: '/srv/images/base.qcow2' } } },
  { kind: 'WorkspaceTemplate', metadata: { name: 'kvm-default' }, spec: { vm: { name: 'desk', driver: 'libvirt', memory: '2Gi', image: '/srv/images/base.qcow2', disk: { size: '20Gi' } } } },
  { kind: 'WorkspaceTemplate', metadata: { name: 'nova' }, spec: { vm: { name: 'desk', driver: 'openstack', vcpus: 8, memory: '32Gi', openstack: { flavor: 'm1.large', image: 'img' } } } },
  { kind: 'Workspace', metadata: { name: 'w-apps' }, spec: { tenant: 'acme', template: 'apps', node: 'n1' } },
  { kind: 'Workspace', metadata: { name: 'w-kvm' }, spec: { tenant: 'acme', template: 'kvm', node: 'n1' } },
  { kind: 'Workspace', metadata: { name: 'w-kvm-default' }, spec: { tenant: 'acme', template: 'kvm-default', node: 'n1' } },
  { kind: 'Workspace', metadata: { name: 'w-nova' }, spec: { tenant: 'acme', template: 'nova', node: 'n1' } },
]);

describe('declared resources, hub and agent alike', () => {
  const desired = renderNodeState(repo, 'n1');
  for (const [workspace, template] of [['w-apps', 'apps'], ['w-kvm', 'kvm'], ['w-kvm-default', 'kvm-default'], ['w-nova', 'nova']] as const) {
    it(`${template}: the scheduler reserves what the agent bills`, () => {
      const held = desired.resources.filter((r) => r.owner.workspace === workspace && (r.kind === 'container' || r.kind === 'vm')).map(declaredResources);
      expect(held.length).toBeGreaterThan(0);
      const agent = { cpus: held.reduce((s, h) => s + h.milliVcpus, 0) / 1000, memoryBytes: held.reduce((s, h) => s + h.memoryBytes, 0) };
      expect(templateResources(repo, template)).toEqual(agent);
    });
  }

  it('a libvirt VM without vcpus takes the 2 the agent gives it, on both sides', () => {
    expect(templateResources(repo, 'kvm-default')).toEqual({ cpus: 2, memoryBytes: 2 * 1024 ** 3 });
  });

  it('an OpenStack VM takes nothing from the node', () => {
    expect(templateResources(repo, 'nova')).toEqual({ cpus: 0, memoryBytes: 0 });
  });
});

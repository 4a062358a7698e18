/** Cross-document checks: each test breaks one thing in a valid repo and asserts the exact issues. */
import { describe, expect, it } from 'vitest';
import { hostPathAllowed } from '../../common/infra/cross-check.js';
import { doc, repoIssues } from './temp-repo.js';

const issuesOf = repoIssues();

describe('crossCheck', () => {
  it('accepts the base repo', async () => {
    expect(await issuesOf({})).toEqual([]);
  });

  it('reports duplicate names naming both places', async () => {
    expect(await issuesOf({ 'tenants/acme-2.yaml': doc('Tenant', 'acme', ['  displayName: ACME again']) })).toEqual([
      'tenants/acme.yaml:4:9: metadata.name: duplicate Tenant "acme": also defined at tenants/acme-2.yaml:4:9',
    ]);
  });

  it('requires exactly one Cluster', async () => {
    expect(await issuesOf({ 'cluster.yaml': undefined, 'pricing.yaml': undefined })).toEqual([
      'cluster.yaml:1:1: no Cluster document found: expected exactly one (by convention in cluster.yaml)',
      'tenants/acme.yaml:6:3: spec: tenant acme names no priceList and there is no PriceList "default": expected spec.priceList naming none are declared',
    ]);
    expect(await issuesOf({ 'cluster-2.yaml': doc('Cluster', 'other', ['  hubUrl: https://hub2.example.eu']) })).toEqual([
      'cluster.yaml:4:9: metadata.name: a second Cluster "main": expected exactly one, the first is at cluster-2.yaml:4:9',
    ]);
  });

  it('reports dangling references to tenant, template, node, profile, price list and parent profile', async () => {
    expect(
      await issuesOf({
        'workspaces/bob.yaml': doc('Workspace', 'bob', ['  tenant: globex', '  template: stak', '  node: gpu-09']),
        'nodes/x.yaml': doc('Node', 'x', ['  profile: gpu-nod']),
        'tenants/acme.yaml': doc('Tenant', 'acme', ['  displayName: ACME', '  priceList: eur']),
        'services/s.yaml': doc('Service', 's', ['  placement: { node: svc-09 }', '  containers: [{ name: a, image: a:1 }]']),
        'profiles/p.yaml': doc('NodeProfile', 'p', ['  extends: base']),
      }),
    ).toEqual([
      'nodes/x.yaml:6:12: spec.profile: unknown node profile "gpu-nod": expected one of ceph-node, gpu-node, p, service-node',
      'profiles/p.yaml:6:12: spec.extends: unknown node profile "base": expected one of ceph-node, gpu-node, p, service-node',
      'services/s.yaml:6:22: spec.placement.node: unknown node "svc-09": expected one of gpu-01, svc-01, x',
      'tenants/acme.yaml:7:14: spec.priceList: unknown price list "eur": expected one of default',
      'workspaces/bob.yaml:6:11: spec.tenant: unknown tenant "globex": expected one of acme',
      'workspaces/bob.yaml:7:13: spec.template: unknown workspace template "stak": expected one of stack',
      'workspaces/bob.yaml:8:9: spec.node: unknown node "gpu-09": expected one of gpu-01, svc-01, x',
    ]);
  });

  it('does not report references to documents that failed validation', async () => {
    expect(await issuesOf({ 'templates/stack.yaml': doc('WorkspaceTemplate', 'stack', ['  containers: [{ name: web }]']) })).toEqual([
      'templates/stack.yaml:6:16: spec.containers[0].image: required field is missing: expected image reference, e.g. docker.io/ollama/ollama:0.5.7. Pin a tag or digest',
    ]);
  });

  it('reports profile extends cycles', async () => {
    expect(
      await issuesOf({ 'profiles/a.yaml': doc('NodeProfile', 'a', ['  extends: b']), 'profiles/b.yaml': doc('NodeProfile', 'b', ['  extends: a']) }),
    ).toEqual([
      'profiles/a.yaml:6:12: spec.extends: node profile a extends itself (a -> b -> a): expected a chain that ends at a profile without extends',
      'profiles/b.yaml:6:12: spec.extends: node profile b extends itself (b -> a -> b): expected a chain that ends at a profile without extends',
    ]);
  });

  it('reports GPU claims: shared, undeclared, count mismatch, no node', async () => {
    expect(
      await issuesOf({
        'workspaces/bob.yaml': doc('Workspace', 'bob', [
          '  tenant: acme',
          '  template: stack',
          '  node: gpu-01',
          '  gpus:',
          '    count: 1',
          '    uuids: [GPU-aaaaaaaa-0000-0000-0000-000000000001, GPU-bbbbbbbb-0000-0000-0000-000000000009]',
        ]),
        'workspaces/carol.yaml': doc('Workspace', 'carol', ['  tenant: acme', '  template: stack', '  gpus: { count: 1, uuids: [GPU-aaaaaaaa-0000-0000-0000-000000000002] }']),
      }),
    ).toEqual([
      'workspaces/bob.yaml:11:12: spec.gpus.uuids: 2 GPU uuids for gpus.count 1: expected exactly gpus.count uuids',
      'workspaces/bob.yaml:11:13: spec.gpus.uuids[0]: GPU GPU-aaaaaaaa-0000-0000-0000-000000000001 is already claimed by workspace alice (workspaces/alice.yaml:9:29): expected each GPU in one workspace',
      'workspaces/bob.yaml:11:55: spec.gpus.uuids[1]: GPU GPU-bbbbbbbb-0000-0000-0000-000000000009 is not among the GPUs of node gpu-01: expected one of GPU-aaaaaaaa-0000-0000-0000-000000000001, GPU-aaaaaaaa-0000-0000-0000-000000000002',
      'workspaces/carol.yaml:8:28: spec.gpus.uuids: GPU uuids without a node: expected spec.node with the node that holds these GPUs',
    ]);
  });

  it('reports host port clashes between workspaces, services and the profile baseline on one node', async () => {
    const withPort = doc('WorkspaceTemplate', 'stack', ['  containers:', '    - name: web', '      image: docker.io/library/nginx:1.27.3', '      ports: [{ containerPort: 80, hostPort: 8080 }]']);
    expect(
      await issuesOf({
        'templates/stack.yaml': withPort,
        'workspaces/bob.yaml': doc('Workspace', 'bob', ['  tenant: acme', '  template: stack', '  node: gpu-01']),
        'services/exporter.yaml': doc('Service', 'exporter', [
          '  placement: { nodeSelector: { role: services } }',
          '  containers:',
          '    - name: metrics',
          '      image: quay.io/prometheus/node-exporter:v1.8.2',
          '      ports: [{ containerPort: 9100, hostPort: 9100 }, { containerPort: 53, hostPort: 53, protocol: udp }, { containerPort: 54, hostPort: 53, protocol: udp, hostIp: 127.0.0.1 }]',
        ]),
      }),
    ).toEqual([
      'services/exporter.yaml:10:15: spec.containers[0].ports[0]: host port 9100/tcp of service exporter, container metrics on node svc-01 is already claimed by profile service-node, container node-exporter (builtin:node-profiles/service-node.yaml:19:11)',
      'services/exporter.yaml:10:108: spec.containers[0].ports[2]: host port 53/udp of service exporter, container metrics on node svc-01 is already claimed by service exporter, container metrics (services/exporter.yaml:10:56)',
      'workspaces/bob.yaml:8:9: spec.node: host port 8080/tcp of workspace bob, container web (declared at templates/stack.yaml:9:15) on node gpu-01 is already claimed by workspace alice, container web (templates/stack.yaml:9:15)',
    ]);
  });

  it('refuses hostNetwork and privileged in templates, duplicate container names and host paths outside the allowance', async () => {
    expect(
      await issuesOf({
        'templates/stack.yaml': doc('WorkspaceTemplate', 'stack', [
          '  containers:',
          '    - name: web',
          '      image: docker.io/library/nginx:1.27.3',
          '      hostNetwork: true',
          '      privileged: true',
          '      volumes: [{ hostPath: /srv/foundry/models, mountPath: /models }, { hostPath: /etc, mountPath: /host-etc }]',
          '    - name: web',
          '      image: docker.io/library/nginx:1.27.3',
        ]),
      }),
    ).toEqual([
      'templates/stack.yaml:9:20: spec.containers[0].hostNetwork: hostNetwork is not allowed in a workspace template: tenants must stay isolated from the node and each other (use a Service or NodeProfile)',
      'templates/stack.yaml:10:19: spec.containers[0].privileged: privileged is not allowed in a workspace template: tenants must stay isolated from the node and each other (use a Service or NodeProfile)',
      'templates/stack.yaml:11:29: spec.containers[0].volumes[0].hostPath: host path /srv/foundry/models is mounted writable in a workspace template: every workspace of every tenant would share it; expected readOnly: true (a Service may mount it writable)',
      'templates/stack.yaml:11:84: spec.containers[0].volumes[1].hostPath: host path /etc is mounted writable in a workspace template: every workspace of every tenant would share it; expected readOnly: true (a Service may mount it writable)',
      'templates/stack.yaml:11:84: spec.containers[0].volumes[1].hostPath: host path /etc is not allowed: expected a path under /srv/foundry (Cluster spec.allowedHostPaths)',
      'templates/stack.yaml:12:13: spec.containers[1].name: duplicate container name "web": also used by spec.containers[0]; expected unique names',
    ]);
  });

  it('refuses workspaces on nodes whose profile hosts none', async () => {
    expect(await issuesOf({ 'workspaces/bob.yaml': doc('Workspace', 'bob', ['  tenant: acme', '  template: stack', '  node: svc-01']) })).toEqual([
      'workspaces/bob.yaml:8:9: spec.node: node svc-01 has profile service-node, which hosts no workspaces: expected a node whose profile has hostsWorkspaces: true',
    ]);
  });
});

describe('hostPathAllowed', () => {
  it('matches whole path segments and refuses dot segments', () => {
    expect(hostPathAllowed('/srv/data', ['/srv'])).toBe(true);
    expect(hostPathAllowed('/srv', ['/srv/'])).toBe(true);
    expect(hostPathAllowed('/srvx', ['/srv'])).toBe(false);
    expect(hostPathAllowed('/srv/../etc', ['/srv'])).toBe(false);
    expect(hostPathAllowed('/etc', [])).toBe(false);
  });
});

/** loadInfraDir: YAML parsing with positions, schema issues mapped to the exact place, file guards. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadInfraDir } from '../../common/infra/load.js';
import { formatIssue } from '../../common/infra/model.js';

let dir: string;
let outside: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'foundry-load-'));
  outside = await mkdtemp(join(tmpdir(), 'foundry-outside-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

async function put(rel: string, text: string): Promise<void> {
  await mkdir(dirname(join(dir, rel)), { recursive: true });
  await writeFile(join(dir, rel), text);
}

const CLUSTER = 'apiVersion: foundry.cloud/v1\nkind: Cluster\nmetadata:\n  name: main\nspec:\n  hubUrl: https://hub.example.eu\n';

async function issues(opts = {}): Promise<string[]> {
  const repo = await loadInfraDir(dir, opts);
  return repo.issues.map(formatIssue);
}

describe('loadInfraDir', () => {
  it('loads a minimal valid repo with the built-in profiles and positions', async () => {
    await put('cluster.yaml', CLUSTER);
    await put('nodes/n1.yml', 'apiVersion: foundry.cloud/v1\nkind: Node\nmetadata:\n  name: n1\nspec:\n  profile: service-node\n');
    const repo = await loadInfraDir(dir, { revision: 'abc' });
    expect(repo.issues.map(formatIssue)).toEqual([]);
    expect(repo.revision).toBe('abc');
    expect(repo.cluster?.doc.spec.hubUrl).toBe('https://hub.example.eu');
    expect(repo.nodes.get('n1')?.source).toEqual({ file: 'nodes/n1.yml', line: 1, column: 1 });
    expect(repo.nodes.get('n1')?.locate?.(['spec', 'profile'])).toEqual({ file: 'nodes/n1.yml', line: 6, column: 12 });
    expect([...repo.profiles.keys()].sort()).toEqual(['ceph-node', 'gpu-node', 'service-node']);
    expect(repo.profiles.get('gpu-node')?.builtin).toBe(true);
  });

  it('reads several documents per file and skips empty ones and dot-files', async () => {
    await put('all.yaml', `${CLUSTER}---\napiVersion: foundry.cloud/v1\nkind: PriceList\nmetadata:\n  name: default\nspec:\n  currency: EUR\n  periods:\n    - effectiveFrom: 2026-01-01T00:00:00Z\n      gpuHour: { "NVIDIA H100 80GB HBM3": "2.49" }\n---\n`);
    await put('.gitlab-ci.yml', 'stages: [validate]\n');
    await put('.git/config.yaml', 'x: 1\n');
    const repo = await loadInfraDir(dir);
    expect(repo.issues.map(formatIssue)).toEqual([]);
    expect(repo.priceLists.get('default')?.source).toEqual({ file: 'all.yaml', line: 8, column: 1 });
  });

  it('reports malformed YAML with file:line:column and keeps going', async () => {
    await put('cluster.yaml', CLUSTER);
    await put('a.yaml', 'apiVersion: foundry.cloud/v1\nkind: Node\nmetadata:\n  name: a\n  name: b\n');
    await put('b.yaml', 'kind: [Node\n');
    expect(await issues()).toEqual([
      'a.yaml:5:3: map keys must be unique',
      'b.yaml:2:1: flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
  });

  it('points at an over-indented line itself, once (not at the value on the line above)', async () => {
    await put('cluster.yaml', CLUSTER);
    // Line 9 is indented under `state: running`: the mistake is on line 9, column 5.
    await put('workspaces/alice.yaml', 'apiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: acme-alice\nspec:\n  tenant: acme\n  template: ai-stack\n  state: running\n    node: gpu-01\n  gpus:\n    count: 1\n');
    // Over-indented after a blank and a comment line: the library names the blank line; the culprit is line 9.
    await put('workspaces/bob.yaml', 'apiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: bob\nspec:\n  tenant: acme\n\n  # why\n     template: ai-stack\n');
    const why = 'line indented more than its siblings, under a key whose value is already on the line above (implicit keys need to be on a single line)';
    expect(await issues()).toEqual([`workspaces/alice.yaml:9:5: ${why}`, 'workspaces/bob.yaml:9:6: all mapping items must start at the same column']);
  });

  it('maps schema errors to the exact node with a dotted path and what was expected', async () => {
    await put('cluster.yaml', CLUSTER);
    await put('t.yaml', [
      'apiVersion: foundry.cloud/v1',
      'kind: WorkspaceTemplate',
      'metadata:',
      '  name: Bad_Name',
      'spec:',
      '  containers:',
      '    - name: web',
      '      imag: nginx',
      '      ports:',
      '        - containerPort: 80',
      '          protocol: sctp',
      '      restartPolicy: sometimes',
      '      resources: { cpus: "2" }',
      '      volumes:',
      '        - mountPath: /data',
      '  vm:',
      '    name: desk',
      '    driver: libvirt',
      '',
    ].join('\n'));
    expect(await issues()).toEqual([
      "t.yaml:4:9: metadata.name: invalid value \"Bad_Name\": expected a resource name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (a DNS label)",
      't.yaml:7:7: spec.containers[0].image: required field is missing: expected image reference, e.g. docker.io/ollama/ollama:0.5.7. Pin a tag or digest',
      't.yaml:8:7: spec.containers[0].imag: unknown field: expected one of name, image, command, args, env, secrets, ports, volumes, resources, gpus, devices, healthcheck, restartPolicy, pullPolicy, labels, user, workingDir, hostNetwork, privileged',
      't.yaml:11:21: spec.containers[0].ports[0].protocol: expected one of "tcp", "udp", got "sctp"',
      't.yaml:12:22: spec.containers[0].restartPolicy: expected one of "no", "always", "on-failure", "unless-stopped", got "sometimes"',
      't.yaml:13:26: spec.containers[0].resources.cpus: expected a number, got a string "2"',
      't.yaml:15:11: spec.containers[0].volumes[0]: expected exactly one of name, hostPath',
      't.yaml:17:5: spec.vm.disk: required field is missing (required when driver is libvirt)',
      't.yaml:17:5: spec.vm.memory: required field is missing (required when driver is libvirt)',
    ]);
  });

  it('refuses symlinks, paths leaving the repo and oversized files, naming the file', async () => {
    await put('cluster.yaml', CLUSTER);
    await writeFile(join(outside, 'evil.yaml'), CLUSTER);
    await symlink(join(outside, 'evil.yaml'), join(dir, 'evil.yaml'));
    await symlink(outside, join(dir, 'linked-dir'));
    await symlink('cluster.yaml', join(dir, 'inside.yaml'));
    await put('big.yaml', `# ${'x'.repeat(2000)}\n`);
    expect(await issues({ maxFileBytes: 1000 })).toEqual([
      'big.yaml:1:1: file is too large (2003 bytes): expected at most 1000 bytes; split it into several files',
      `evil.yaml:1:1: symbolic link refused (points to ${join(outside, 'evil.yaml')}, outside the repo): expected a regular file or folder`,
      'inside.yaml:1:1: symbolic link refused (points to cluster.yaml, inside the repo): expected a regular file or folder',
      `linked-dir:1:1: symbolic link refused (points to ${outside}, outside the repo): expected a regular file or folder`,
    ]);
    expect(await issues({ subPath: '../x' })).toEqual(['../x:1:1: path leaves the repo: expected a sub-path inside the repo']);
    expect(await issues({ subPath: 'cluster.yaml' })).toEqual(['cluster.yaml:1:1: path is not a folder: expected the folder that holds the infra files']);
    expect(await issues({ subPath: 'nope' })).toEqual(['nope:1:1: path does not exist in the repo']);
  });

  it('supports anchors and merge keys, and names the conventional cluster file under a sub-path', async () => {
    await put('infra/cluster.yaml', CLUSTER);
    await put('infra/t.yaml', [
      'apiVersion: foundry.cloud/v1',
      'kind: WorkspaceTemplate',
      'metadata: { name: t }',
      'spec:',
      '  containers:',
      '    - &web',
      '      name: a',
      '      image: docker.io/library/nginx:1.27.3',
      '      env: { MODE: web }',
      '    - <<: *web',
      '      name: b',
      '',
    ].join('\n'));
    const repo = await loadInfraDir(dir, { subPath: 'infra' });
    expect(repo.issues.map(formatIssue)).toEqual([]);
    expect(repo.templates.get('t')?.doc.spec.containers?.[1]).toEqual({ name: 'b', image: 'docker.io/library/nginx:1.27.3', env: { MODE: 'web' } });
    await put('infra/cluster.yaml', '');
    expect(await issues({ subPath: 'infra/' })).toContain('infra/cluster.yaml:1:1: no Cluster document found: expected exactly one (by convention in cluster.yaml)');
  });

  it('reports unknown kinds and documents that are not mappings', async () => {
    await put('cluster.yaml', CLUSTER);
    await put('x.yaml', 'apiVersion: foundry.cloud/v2\nkind: Deployment\nmetadata: { name: x }\n---\n- a\n- b\n');
    expect(await issues()).toEqual([
      'x.yaml:1:13: apiVersion: expected "foundry.cloud/v1", got "foundry.cloud/v2"',
      'x.yaml:2:7: kind: unknown kind "Deployment": expected one of Cluster, Node, NodeProfile, Service, WorkspaceTemplate, Tenant, Workspace, PriceList, Secret',
      'x.yaml:5:1: expected a mapping with apiVersion, kind, metadata and spec, got a list',
    ]);
  });
});

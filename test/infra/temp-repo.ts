/** Writes a small infra repo into a temp dir for loader and cross-check tests. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';
import { loadInfraDir } from '../../common/infra/load.js';
import { formatIssue } from '../../common/infra/model.js';

/** A temp repo: write files relative to it, remove it afterwards. */
export interface TempRepo {
  dir: string;
  put(rel: string, text: string): Promise<void>;
  remove(): Promise<void>;
}

/** Creates an empty temp repo. */
export async function tempRepo(prefix = 'foundry-infra-'): Promise<TempRepo> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return {
    dir,
    async put(rel, text) {
      await mkdir(dirname(join(dir, rel)), { recursive: true });
      await writeFile(join(dir, rel), text);
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A document in YAML: apiVersion, kind, metadata.name, then the spec lines (already indented by two). */
export function doc(kind: string, name: string, specLines: string[]): string {
  return ['apiVersion: foundry.cloud/v1', `kind: ${kind}`, 'metadata:', `  name: ${name}`, 'spec:', ...specLines, ''].join('\n');
}

/** The base documents every cross-check test starts from: a valid repo with one GPU node and one workspace. */
export const BASE: Record<string, string> = {
  'cluster.yaml': doc('Cluster', 'main', ['  hubUrl: https://hub.example.eu', '  allowedHostPaths: [/srv/foundry]']),
  'pricing.yaml': doc('PriceList', 'default', ['  currency: EUR', '  periods:', '    - effectiveFrom: 2026-01-01T00:00:00Z', '      gpuHour: { "NVIDIA H100 80GB HBM3": "2.49" }']),
  'tenants/acme.yaml': doc('Tenant', 'acme', ['  displayName: ACME']),
  'nodes/gpu-01.yaml': doc('Node', 'gpu-01', [
    '  profile: gpu-node',
    '  gpus:',
    '    - { uuid: GPU-aaaaaaaa-0000-0000-0000-000000000001, model: NVIDIA H100 80GB HBM3 }',
    '    - { uuid: GPU-aaaaaaaa-0000-0000-0000-000000000002, model: NVIDIA H100 80GB HBM3 }',
  ]),
  'nodes/svc-01.yaml': doc('Node', 'svc-01', ['  profile: service-node', '  labels: { role: services }']),
  'templates/stack.yaml': doc('WorkspaceTemplate', 'stack', [
    '  containers:',
    '    - name: web',
    '      image: docker.io/library/nginx:1.27.3',
    '      ports: [{ containerPort: 80 }]',
  ]),
  'workspaces/alice.yaml': doc('Workspace', 'alice', [
    '  tenant: acme',
    '  template: stack',
    '  node: gpu-01',
    '  gpus: { count: 1, uuids: [GPU-aaaaaaaa-0000-0000-0000-000000000001] }',
  ]),
};

/** `issuesOf(files)` of repoIssues(); `dir()` is the folder of the repo it wrote last. */
export interface RepoIssues {
  (files: Record<string, string | undefined>): Promise<string[]>;
  dir(): string;
}

/**
 * `issuesOf(files)` for a test file: writes BASE plus `files` (undefined leaves a BASE file out) into a
 * temp repo, loads it and returns the formatted issues; the repo is removed after each test.
 */
export function repoIssues(): RepoIssues {
  let repo: TempRepo | undefined;
  afterEach(async () => {
    await repo?.remove();
    repo = undefined;
  });
  const issuesOf = async (files: Record<string, string | undefined>): Promise<string[]> => {
    repo = await tempRepo();
    for (const [rel, text] of Object.entries({ ...BASE, ...files })) if (text !== undefined) await repo.put(rel, text);
    return (await loadInfraDir(repo.dir)).issues.map(formatIssue);
  };
  return Object.assign(issuesOf, {
    dir: (): string => {
      if (repo === undefined) throw new Error('issuesOf() has not written a repo in this test');
      return repo.dir;
    },
  });
}

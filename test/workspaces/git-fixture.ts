/** Test support: a hosted bare infra repo (with the validating hook) seeded with a small valid fleet, and git helpers. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ensureHostedRepo, seedHostedRepo } from '../../hub/git/hosted-repo.js';

/** Files of a valid infra repo: path → YAML. */
export type RepoFiles = Record<string, string>;

const doc = (kind: string, name: string, spec: string): string => `apiVersion: foundry.cloud/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n${spec}`;

/** The made-up UUID of GPU `i` of node `name` (its trailing digits): GPU-aaaaaaaa-0001-0000. */
export function gpuUuid(name: string, i: number): string {
  const n = /([0-9]+)$/.exec(name)?.[1] ?? '0';
  return `GPU-aaaaaaaa-${n.padStart(4, '0')}-${String(i).padStart(4, '0')}`;
}

/** A GPU node file with `gpus` GPUs of `model` (UUIDs from gpuUuid). */
export function gpuNode(name: string, gpus: number, model = 'NVIDIA H100 80GB HBM3', extra = ''): string {
  const list = Array.from({ length: gpus }, (_, i) => `    - uuid: ${gpuUuid(name, i)}\n      model: ${model}\n`).join('');
  return doc('Node', name, `  profile: gpu-node\n  labels:\n    zone: fsn1\n${extra}${gpus > 0 ? `  gpus:\n${list}` : ''}`);
}

/** A small fleet: cluster, `nodes` GPU nodes of `gpus` GPUs, tenants acme (quota) and globex, a template, prices. */
export function fleetFiles(opts: { nodes?: number; gpus?: number; acmeQuota?: number } = {}): RepoFiles {
  const files: RepoFiles = {
    'cluster.yaml': doc('Cluster', 'main', '  hubUrl: http://127.0.0.1:1\n'),
    'tenants/acme.yaml': doc('Tenant', 'acme', `  displayName: ACME\n${opts.acmeQuota === undefined ? '' : `  quota:\n    maxGpus: ${opts.acmeQuota}\n`}`),
    'tenants/globex.yaml': doc('Tenant', 'globex', '  displayName: Globex\n'),
    'templates/tiny.yaml': doc('WorkspaceTemplate', 'tiny', '  containers:\n    - name: main\n      image: localhost/foundry-test:1\n      command: [sleep, "3600"]\n      gpus: true\n'),
    'pricing.yaml': doc('PriceList', 'default', '  currency: EUR\n  periods:\n    - effectiveFrom: "2026-01-01T00:00:00Z"\n      gpuHour:\n        NVIDIA H100 80GB HBM3: "2.49"\n    - effectiveFrom: "2026-07-01T00:00:00Z"\n      gpuHour:\n        NVIDIA H100 80GB HBM3: "2.19"\n'),
  };
  for (let i = 1; i <= (opts.nodes ?? 2); i++) files[`nodes/gpu-0${i}.yaml`] = gpuNode(`gpu-0${i}`, opts.gpus ?? 2);
  return files;
}

/** Writes files under `dir`. */
export function writeFiles(dir: string, files: RepoFiles): void {
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), content);
  }
}

/** Creates a hosted bare repo (hook installed) under `dir`/infra.git seeded with `files`; returns its path. */
export async function hostedRepo(dir: string, files: RepoFiles): Promise<string> {
  const repoDir = join(dir, 'infra.git');
  await ensureHostedRepo(repoDir);
  const src = mkdtempSync(join(tmpdir(), 'foundry-seed-src-'));
  writeFiles(src, files);
  await seedHostedRepo(repoDir, src);
  return repoDir;
}

/** Runs git synchronously (tests only); throws on failure unless `allowFail`. */
export function gitSync(args: string[], cwd: string, allowFail = false): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_AUTHOR_NAME: 'admin', GIT_AUTHOR_EMAIL: 'admin@x', GIT_COMMITTER_NAME: 'admin', GIT_COMMITTER_EMAIL: 'admin@x' },
  });
  const out = { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
  if (out.code !== 0 && !allowFail) throw new Error(`git ${args.join(' ')} failed: ${out.stderr}`);
  return out;
}

/** The content of `path` at the branch tip of the bare repo, or undefined when absent. */
export function showAtTip(repoDir: string, path: string, branch = 'main'): string | undefined {
  const r = gitSync(['--git-dir', repoDir, 'show', `refs/heads/${branch}:${path}`], repoDir, true);
  return r.code === 0 ? r.stdout : undefined;
}

/** 3 nodes × 4 GPUs, 9 of them already held: 3 free GPUs, one per node. */
export function nearlyFull(): RepoFiles {
  const files = fleetFiles({ nodes: 0 });
  for (const n of ['gpu-01', 'gpu-02', 'gpu-03']) {
    files[`nodes/${n}.yaml`] = gpuNode(n, 4);
    files[`workspaces/acme/${n}-held.yaml`] =
      `apiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: ${n}-held\nspec:\n  tenant: acme\n  template: tiny\n  node: ${n}\n  gpus:\n    count: 3\n    uuids: [${[0, 1, 2].map((i) => gpuUuid(n, i)).join(', ')}]\n`;
  }
  return files;
}

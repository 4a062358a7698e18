// Small infra repos for the agent benchmarks (podman, libvirt): git with a fixed identity and no user
// config, a document writer, and one repo layout (cluster, a bench profile and node, tenant acme, a
// price list, one template named `stack`, one workspace file per name).
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';

/** Runs git in `repo` as the bench user, ignoring the machine's git config; returns trimmed stdout. */
export const git = (repo, args) => execFileSync('git', ['-C', repo, '-c', 'user.name=bench', '-c', 'user.email=bench@example.com', '-c', 'commit.gpgsign=false', ...args], { env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' }, encoding: 'utf8' }).trim();

/** One infra document as YAML. */
export const doc = (kind, name, spec) => stringify({ apiVersion: 'foundry.cloud/v1', kind, metadata: { name }, spec });

/** `git init` of a new repo (branch main) in `dir`; returns `dir`. */
export function newRepo(dir) {
  mkdirSync(dir, { recursive: true });
  execFileSync('git', ['init', '-q', '-b', 'main', dir]);
  return dir;
}

/** Writes the repo's files under `repo/sub`: `template` is the spec of template `stack`; each workspace gets `workspaceSpec` too. */
export function writeInfraRepo(repo, { node, template, workspaces, workspaceSpec = {}, sub = '.' }) {
  const files = {
    'cluster.yaml': doc('Cluster', 'bench', { hubUrl: 'http://127.0.0.1:9', allowMassPrune: true }),
    'profiles/bench-node.yaml': doc('NodeProfile', 'bench-node', { hostsWorkspaces: true }),
    [`nodes/${node}.yaml`]: doc('Node', node, { profile: 'bench-node' }),
    'tenants/acme.yaml': doc('Tenant', 'acme', { displayName: 'ACME', priceList: 'default' }),
    'pricing.yaml': doc('PriceList', 'default', { currency: 'EUR', periods: [{ effectiveFrom: '2026-01-01T00:00:00Z', gpuHour: { 'NVIDIA H100 80GB HBM3': '2.49' } }] }),
    // no hub here to keep volume keys: the benchmarks measure the agent; encryption's cost is bench/volumes.bench.mjs
    'templates/stack.yaml': doc('WorkspaceTemplate', 'stack', { encryption: 'none', ...template }),
  };
  for (const ws of workspaces) files[`workspaces/${ws}.yaml`] = doc('Workspace', ws, { tenant: 'acme', template: 'stack', node, ...workspaceSpec });
  rmSync(join(repo, sub, 'workspaces'), { recursive: true, force: true });
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(repo, sub, rel)), { recursive: true });
    writeFileSync(join(repo, sub, rel), text);
  }
}

/**
 * Small infra repos for the agent's integration tests, written as YAML into a temp dir (optionally a
 * git repo, committed): one node with a test profile (no baseline containers), a tenant, and the
 * workspaces and templates a test asks for, all using the local test image.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { git } from './signing.js';

/** A container of a template, in infra-repo form. */
export type ContainerDoc = Record<string, unknown> & { name: string; image: string };

/** What a test repo declares. */
export interface RepoSpec {
  node: string;
  templates: Record<string, ContainerDoc[]>;
  /** Workspace name -> template, plus optional fields (state, reclaimPolicy, env). */
  workspaces: Record<string, { template: string; tenant?: string } & Record<string, unknown>>;
  allowMassPrune?: boolean;
  /** Templates encrypt their volumes (the default of real repos); off here because these agents run without a hub, which is where volume keys come from. */
  encryptedVolumes?: boolean;
  /** Extra files (relative path -> raw text), e.g. to break the repo on purpose. */
  extraFiles?: Record<string, string>;
}

const doc = (kind: string, name: string, spec: unknown): string => stringify({ apiVersion: 'foundry.cloud/v1', kind, metadata: { name }, spec });

/** Writes the repo's YAML files into `dir` (replacing what a previous call wrote). */
export function writeRepo(dir: string, spec: RepoSpec): void {
  for (const sub of ['templates', 'workspaces', 'nodes', 'profiles', 'tenants']) rmSync(join(dir, sub), { recursive: true, force: true });
  const files: Record<string, string> = {
    'cluster.yaml': doc('Cluster', 'test', { hubUrl: 'http://127.0.0.1:9', pollInterval: '60s', ...(spec.allowMassPrune === true ? { allowMassPrune: true } : {}) }),
    'profiles/test-node.yaml': doc('NodeProfile', 'test-node', { description: 'test node without baseline containers', hostsWorkspaces: true, hostsServices: true }),
    [`nodes/${spec.node}.yaml`]: doc('Node', spec.node, { profile: 'test-node' }),
    'tenants/acme.yaml': doc('Tenant', 'acme', { displayName: 'ACME', priceList: 'default' }),
    'tenants/globex.yaml': doc('Tenant', 'globex', { displayName: 'Globex', priceList: 'default' }),
    'pricing.yaml': doc('PriceList', 'default', { currency: 'EUR', periods: [{ effectiveFrom: '2026-01-01T00:00:00Z', gpuHour: { 'NVIDIA H100 80GB HBM3': '2.49' } }] }),
  };
  for (const [name, containers] of Object.entries(spec.templates)) files[`templates/${name}.yaml`] = doc('WorkspaceTemplate', name, { containers, ...(spec.encryptedVolumes === true ? {} : { encryption: 'none' }) });
  for (const [name, ws] of Object.entries(spec.workspaces)) {
    const { template, tenant, ...rest } = ws;
    files[`workspaces/${name}.yaml`] = doc('Workspace', name, { tenant: tenant ?? 'acme', template, node: spec.node, ...rest });
  }
  Object.assign(files, spec.extraFiles ?? {});
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
}

/** Creates a git repo in `dir` (branch main). */
export function initGitRepo(dir: string): void {
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '-q', '-b', 'main']);
}

/** Writes `spec` and commits everything; returns the new commit SHA. `signArgs` replaces `commit` to sign it. */
export function commitRepo(dir: string, spec: RepoSpec, message: string, signArgs: string[] = ['commit']): string {
  writeRepo(dir, spec);
  git(dir, ['add', '-A']);
  git(dir, [...signArgs, '-q', '--allow-empty', '-m', message]);
  return git(dir, ['rev-parse', 'HEAD']);
}

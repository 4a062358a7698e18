/**
 * Checks that need the whole repo: duplicate names, exactly one Cluster, dangling references, GPU
 * claims, host port clashes, what workspace templates may not do, which host paths may be mounted, and
 * price lists that could break an invoice (price-checks.ts).
 */
import { checkHostPorts, selectorMatches } from './host-ports.js';
import { issueAt, oneOf, positionOf, where } from './issue-at.js';
import type { Container, InfraIssue, InfraKind, InfraRepo, Located, PathSegment, Workspace } from './model.js';
import type { InvalidNames, LoadedDoc } from './parse-docs.js';
import { checkPriceLists } from './price-checks.js';
import { profileChain, profileFlag } from './profile-chain.js';
import { checkTemplatePolicy } from './template-policy.js';
import { checkSecrets } from './secret-checks.js';
import { parseDuration } from '../units.js';

/** Runs every cross-document check; appends issues to repo.issues. `docs` are the repo's own valid documents in file order; `subPath` is where the infra files live in the repo. */
export function crossCheck(repo: InfraRepo, docs: LoadedDoc[], invalid: InvalidNames, subPath = ''): void {
  const issues = repo.issues;
  checkDuplicates(docs, issues);
  checkCluster(docs, invalid, issues, subPath === '' ? 'cluster.yaml' : `${subPath}/cluster.yaml`);
  checkReferences(repo, invalid, issues);
  checkProfiles(repo, issues);
  checkGpus(repo, issues);
  checkContainers(repo, docs, issues);
  checkHostPorts(repo, issues);
  checkPriceLists(repo, issues);
  checkTemplatePolicy(repo, docs, issues);
  checkTelemetryInterval(repo, issues);
  checkSecrets(repo, issues);
}

/** Usage is billed in 10 s slots and a slot counts only when an observation falls in it: a telemetry tick may not be rarer. */
const USAGE_SLOT_MS = 10_000;

function checkTelemetryInterval(repo: InfraRepo, issues: InfraIssue[]): void {
  const loc = repo.cluster;
  const text = loc?.doc.spec.telemetryInterval;
  if (loc === undefined || text === undefined) return;
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    return; // the schema reports a malformed duration
  }
  if (ms > USAGE_SLOT_MS) issues.push(issueAt('INFRA_CONFLICT', loc, ['spec', 'telemetryInterval'], `telemetryInterval ${text} is longer than the 10s usage slot: expected at most 10s (a slot without a telemetry tick is never billed)`));
}

function checkDuplicates(docs: LoadedDoc[], issues: InfraIssue[]): void {
  const first = new Map<string, LoadedDoc>();
  for (const d of docs) {
    const key = `${d.kind}/${d.name}`;
    const prev = first.get(key);
    if (prev === undefined) first.set(key, d);
    else issues.push(issueAt('INFRA_CONFLICT', d.located, ['metadata', 'name'], `duplicate ${d.kind} ${JSON.stringify(d.name)}: also defined at ${where(positionOf(prev.located, ['metadata', 'name']))}`));
  }
}

function checkCluster(docs: LoadedDoc[], invalid: InvalidNames, issues: InfraIssue[], conventional: string): void {
  const clusters = docs.filter((d) => d.kind === 'Cluster');
  const invalidCluster = [...invalid].some((k) => k.startsWith('Cluster/'));
  if (clusters.length === 0 && !invalidCluster) {
    issues.push({ code: 'INFRA_REFERENCE', file: conventional, line: 1, column: 1, path: '', message: 'no Cluster document found: expected exactly one (by convention in cluster.yaml)' });
  }
  for (const extra of clusters.slice(1)) {
    if (extra.name === clusters[0]!.name) continue; // reported as a duplicate
    issues.push(issueAt('INFRA_CONFLICT', extra.located, ['metadata', 'name'], `a second Cluster ${JSON.stringify(extra.name)}: expected exactly one, the first is at ${where(positionOf(clusters[0]!.located, ['metadata', 'name']))}`));
  }
}

type RefCheck = (loc: Located<unknown>, path: PathSegment[], kind: InfraKind, name: string | undefined, what: string) => void;

function checkReferences(repo: InfraRepo, invalid: InvalidNames, issues: InfraIssue[]): void {
  const names: Record<string, Map<string, unknown>> = {
    Node: repo.nodes,
    NodeProfile: repo.profiles,
    WorkspaceTemplate: repo.templates,
    Tenant: repo.tenants,
    PriceList: repo.priceLists,
  };
  const ref: RefCheck = (loc, path, kind, name, what) => {
    if (name === undefined || names[kind]!.has(name) || invalid.has(`${kind}/${name}`)) return;
    issues.push(issueAt('INFRA_REFERENCE', loc, path, `unknown ${what} ${JSON.stringify(name)}: expected ${oneOf(names[kind]!.keys())}`));
  };
  for (const [, loc] of repo.workspaces) {
    ref(loc, ['spec', 'tenant'], 'Tenant', loc.doc.spec.tenant, 'tenant');
    ref(loc, ['spec', 'template'], 'WorkspaceTemplate', loc.doc.spec.template, 'workspace template');
    ref(loc, ['spec', 'node'], 'Node', loc.doc.spec.node, 'node');
    checkWorkspaceNode(repo, loc, issues);
  }
  for (const [, loc] of repo.nodes) ref(loc, ['spec', 'profile'], 'NodeProfile', loc.doc.spec.profile, 'node profile');
  for (const [, loc] of repo.services) ref(loc, ['spec', 'placement', 'node'], 'Node', loc.doc.spec.placement.node, 'node');
  for (const [name, loc] of repo.tenants) {
    if (loc.doc.spec.priceList !== undefined) ref(loc, ['spec', 'priceList'], 'PriceList', loc.doc.spec.priceList, 'price list');
    else if (!repo.priceLists.has('default') && !invalid.has('PriceList/default')) {
      issues.push(issueAt('INFRA_REFERENCE', loc, ['spec'], `tenant ${name} names no priceList and there is no PriceList "default": expected spec.priceList naming ${oneOf(repo.priceLists.keys())}`));
    }
  }
}

/** A placed workspace: its node must host workspaces and match its nodeSelector. */
function checkWorkspaceNode(repo: InfraRepo, loc: Located<Workspace>, issues: InfraIssue[]): void {
  const { node: nodeName, nodeSelector } = loc.doc.spec;
  const node = nodeName === undefined ? undefined : repo.nodes.get(nodeName);
  if (node === undefined) return;
  if (profileFlag(repo, node.doc.spec.profile, 'hostsWorkspaces') === false) {
    issues.push(issueAt('INFRA_CONFLICT', loc, ['spec', 'node'], `node ${nodeName} has profile ${node.doc.spec.profile}, which hosts no workspaces: expected a node whose profile has hostsWorkspaces: true`));
  }
  if (nodeSelector !== undefined && !selectorMatches(nodeSelector, node.doc)) {
    issues.push(issueAt('INFRA_CONFLICT', loc, ['spec', 'node'], `node ${nodeName} does not match the workspace's nodeSelector: expected labels ${JSON.stringify(nodeSelector)}`));
  }
}

function checkProfiles(repo: InfraRepo, issues: InfraIssue[]): void {
  for (const [name, loc] of repo.profiles) {
    const parent = loc.doc.spec.extends;
    if (parent === undefined) continue;
    if (!repo.profiles.has(parent)) {
      issues.push(issueAt('INFRA_REFERENCE', loc, ['spec', 'extends'], `unknown node profile ${JSON.stringify(parent)}: expected ${oneOf(repo.profiles.keys())}`));
      continue;
    }
    const { chain, cycle } = profileChain(repo, name);
    if (cycle && chain[chain.length - 1] === name) {
      issues.push(issueAt('INFRA_REFERENCE', loc, ['spec', 'extends'], `node profile ${name} extends itself (${chain.join(' -> ')}): expected a chain that ends at a profile without extends`));
    }
  }
}

function checkGpus(repo: InfraRepo, issues: InfraIssue[]): void {
  const nodeGpu = new Map<string, { node: string; model: string; loc: Located<unknown>; index: number }>();
  for (const [name, loc] of repo.nodes) {
    (loc.doc.spec.gpus ?? []).forEach((g, index) => {
      const prev = nodeGpu.get(g.uuid);
      if (prev !== undefined) issues.push(issueAt('INFRA_CONFLICT', loc, ['spec', 'gpus', index, 'uuid'], `GPU ${g.uuid} is also declared by node ${prev.node} (${where(positionOf(prev.loc, ['spec', 'gpus', prev.index, 'uuid']))}): expected each GPU on one node`));
      else nodeGpu.set(g.uuid, { node: name, model: g.model, loc, index });
    });
  }
  const claimed = new Map<string, { workspace: string; loc: Located<unknown>; index: number }>();
  for (const [name, loc] of repo.workspaces) {
    const gpus = loc.doc.spec.gpus;
    const uuids = gpus?.uuids;
    if (uuids === undefined) continue;
    const nodeName = loc.doc.spec.node;
    if (nodeName === undefined && uuids.length > 0) {
      issues.push(issueAt('INFRA_CONFLICT', loc, ['spec', 'gpus', 'uuids'], 'GPU uuids without a node: expected spec.node with the node that holds these GPUs'));
    }
    const count = gpus?.count ?? 0;
    if (uuids.length !== count) {
      issues.push(issueAt('INFRA_CONFLICT', loc, ['spec', 'gpus', 'uuids'], `${uuids.length} GPU uuid${uuids.length === 1 ? '' : 's'} for gpus.count ${count}: expected exactly gpus.count uuids`));
    }
    const node = nodeName === undefined ? undefined : repo.nodes.get(nodeName)?.doc;
    uuids.forEach((uuid, index) => {
      const path = ['spec', 'gpus', 'uuids', index];
      const prev = claimed.get(uuid);
      if (prev !== undefined) {
        issues.push(issueAt('INFRA_CONFLICT', loc, path, `GPU ${uuid} is already claimed by workspace ${prev.workspace} (${where(positionOf(prev.loc, ['spec', 'gpus', 'uuids', prev.index]))}): expected each GPU in one workspace`));
      } else {
        claimed.set(uuid, { workspace: name, loc, index });
      }
      // A node that lists no GPUs offers none: a claim there would be a GPU nobody placed or bills right.
      const declared = node?.spec.gpus ?? [];
      if (node !== undefined) {
        const gpu = declared.find((g) => g.uuid === uuid);
        if (gpu === undefined && declared.length === 0) issues.push(issueAt('INFRA_REFERENCE', loc, path, `GPU ${uuid} is claimed on node ${nodeName}, which declares no GPUs: expected the node's GPUs in its spec.gpus first`));
        else if (gpu === undefined) issues.push(issueAt('INFRA_REFERENCE', loc, path, `GPU ${uuid} is not among the GPUs of node ${nodeName}: expected ${oneOf(declared.map((g) => g.uuid))}`));
        else if (gpus?.model !== undefined && gpu.model !== gpus.model) issues.push(issueAt('INFRA_CONFLICT', loc, path, `GPU ${uuid} is model ${JSON.stringify(gpu.model)}: expected ${JSON.stringify(gpus.model)} as gpus.model asks`));
      }
    });
  }
}

/** Duplicate container names per unit, no hostNetwork/privileged in templates, host paths only where allowed. */
function checkContainers(repo: InfraRepo, docs: LoadedDoc[], issues: InfraIssue[]): void {
  const allowed = repo.cluster?.doc.spec.allowedHostPaths ?? [];
  const units: { loc: Located<unknown>; containers: Container[]; template: boolean; trusted: boolean }[] = [];
  for (const [, loc] of repo.profiles) if (loc.builtin === true) units.push({ loc, containers: loc.doc.spec.containers ?? [], template: false, trusted: true });
  for (const d of docs) {
    const spec = (d.located.doc as { spec?: { containers?: Container[] } }).spec;
    if (d.kind === 'NodeProfile' || d.kind === 'Service' || d.kind === 'WorkspaceTemplate') {
      units.push({ loc: d.located, containers: spec?.containers ?? [], template: d.kind === 'WorkspaceTemplate', trusted: false });
    }
  }
  for (const unit of units) {
    const seen = new Map<string, number>();
    unit.containers.forEach((c, i) => {
      const base = ['spec', 'containers', i];
      const prev = seen.get(c.name);
      if (prev !== undefined) issues.push(issueAt('INFRA_CONFLICT', unit.loc, [...base, 'name'], `duplicate container name ${JSON.stringify(c.name)}: also used by spec.containers[${prev}]; expected unique names`));
      else seen.set(c.name, i);
      if (unit.template) {
        for (const flag of ['hostNetwork', 'privileged'] as const) {
          if (c[flag] === true) issues.push(issueAt('INFRA_CONFLICT', unit.loc, [...base, flag], `${flag} is not allowed in a workspace template: tenants must stay isolated from the node and each other (use a Service or NodeProfile)`));
        }
      }
      // Built-in profiles are part of FoundryCloud itself: their host paths are trusted. Repo documents need the Cluster's allowance.
      if (unit.trusted) return;
      (c.volumes ?? []).forEach((v, k) => {
        if (v.hostPath !== undefined && !hostPathAllowed(v.hostPath, allowed)) {
          const expected = allowed.length === 0 ? 'no host paths are allowed (Cluster spec.allowedHostPaths is empty)' : `a path under ${allowed.join(', ')} (Cluster spec.allowedHostPaths)`;
          issues.push(issueAt('INFRA_CONFLICT', unit.loc, [...base, 'volumes', k, 'hostPath'], `host path ${v.hostPath} is not allowed: expected ${expected}`));
        }
      });
    });
  }
}

/** True when `path` (without '..' segments) equals or lies under one of the allowed prefixes. */
export function hostPathAllowed(path: string, allowed: readonly string[]): boolean {
  if (path.split('/').some((s) => s === '..' || s === '.')) return false;
  const norm = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p);
  const p = norm(path);
  return allowed.some((a) => {
    const prefix = norm(a);
    return prefix === '/' || p === prefix || p.startsWith(`${prefix}/`);
  });
}

/**
 * The infra repo as the rest of the code sees it once loaded and validated: documents grouped by kind,
 * each with the place it came from, and the issues found on the way.
 */
import type { Cluster } from '../generated/cluster.js';
import type { Node } from '../generated/node.js';
import type { NodeProfile } from '../generated/node-profile.js';
import type { Service } from '../generated/service.js';
import type { WorkspaceTemplate, Container, Vm } from '../generated/workspace-template.js';
import type { Tenant } from '../generated/tenant.js';
import type { Workspace } from '../generated/workspace.js';
import type { PriceList } from '../generated/price-list.js';
import type { Secret } from '../generated/secret.js';
import type { SecretRef, VmSecretRef } from '../generated/workspace-template.js';

export type { Cluster, Node, NodeProfile, Service, WorkspaceTemplate, Container, Vm, Tenant, Workspace, PriceList, Secret, SecretRef, VmSecretRef };

/** Every document kind of the infra repo. */
export const INFRA_KINDS = ['Cluster', 'Node', 'NodeProfile', 'Service', 'WorkspaceTemplate', 'Tenant', 'Workspace', 'PriceList', 'Secret'] as const;

/** One infra-repo kind name. */
export type InfraKind = (typeof INFRA_KINDS)[number];

/** Maps a kind name to its document type. */
export interface InfraDocByKind {
  Cluster: Cluster;
  Node: Node;
  NodeProfile: NodeProfile;
  Service: Service;
  WorkspaceTemplate: WorkspaceTemplate;
  Tenant: Tenant;
  Workspace: Workspace;
  PriceList: PriceList;
  Secret: Secret;
}

/** Where something is in the repo: a path relative to the repo root, 1-based line and column. */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/** One step of a field path: a mapping key or a list index. */
export type PathSegment = string | number;

/**
 * Finds where a field of a document is written: the value's position, or the key's with `key: true`.
 * Falls back to the nearest parent that exists.
 */
export type Locator = (path: readonly PathSegment[], options?: { key?: boolean }) => SourcePosition;

/** A document with where it came from. */
export interface Located<T> {
  doc: T;
  source: SourcePosition;
  /** Positions of fields inside the document; set by the loader (absent for documents built in code). */
  locate?: Locator;
  /** True for the built-in node profiles shipped in node-profiles/ (not part of the repo). */
  builtin?: boolean;
}

/** One problem found while loading or validating, with its place and field path. */
export interface InfraIssue {
  /** Catalog code: INFRA_YAML, INFRA_SCHEMA, INFRA_REFERENCE, INFRA_CONFLICT, INFRA_FILE, INFRA_UNKNOWN_KIND. */
  code: 'INFRA_YAML' | 'INFRA_SCHEMA' | 'INFRA_REFERENCE' | 'INFRA_CONFLICT' | 'INFRA_FILE' | 'INFRA_UNKNOWN_KIND';
  file: string;
  line: number;
  column: number;
  /** Field path in the document, e.g. spec.containers[0].image; empty for whole-file problems. */
  path: string;
  /** What is wrong and what was expected, lowercase. */
  message: string;
}

/** The loaded repo: valid documents by kind (keyed by metadata.name) and every issue found. */
export interface InfraRepo {
  /** Revision the repo was read at (a commit SHA), or 'worktree' for a plain directory. */
  revision: string;
  cluster: Located<Cluster> | undefined;
  nodes: Map<string, Located<Node>>;
  profiles: Map<string, Located<NodeProfile>>;
  services: Map<string, Located<Service>>;
  templates: Map<string, Located<WorkspaceTemplate>>;
  tenants: Map<string, Located<Tenant>>;
  /** Keyed by metadata.name; workspace names are unique across the repo. */
  workspaces: Map<string, Located<Workspace>>;
  priceLists: Map<string, Located<PriceList>>;
  /** Secret documents (the plaintext sidecars of the age files under secrets/). */
  secrets: Map<string, Located<Secret>>;
  issues: InfraIssue[];
  /** Findings that do not refuse the revision (e.g. a plaintext env value whose name says it is a secret). */
  warnings?: InfraIssue[];
}

/** Formats a field path in dotted form: spec.containers[0].image (keys that are not plain words as ["key"]). */
export function dottedPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Formats an issue the way compilers do: file:line:column: path: message. */
export function formatIssue(issue: InfraIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  return issue.path === '' ? `${where}: ${issue.message}` : `${where}: ${issue.path}: ${issue.message}`;
}

/** An InfraRepo with no documents yet, at `revision`. */
export function emptyInfraRepo(revision: string, issues: InfraIssue[] = []): InfraRepo {
  return {
    revision,
    cluster: undefined,
    nodes: new Map(),
    profiles: new Map(),
    services: new Map(),
    templates: new Map(),
    tenants: new Map(),
    workspaces: new Map(),
    priceLists: new Map(),
    secrets: new Map(),
    issues,
  };
}

/**
 * Which apps exist and whose they are: workspace → tenant and the apps its template declares on container
 * ports. Built from the repo at the branch tip, once per revision, so authorising a request reads no Git
 * and no YAML: a map lookup.
 */
import type { InfraRepo, WorkspaceTemplate } from '../../common/infra/model.js';

/** One app of a workspace, as declared in its template. */
export interface AppEntry {
  name: string;
  container: string;
  containerPort: number;
  protocol: 'http' | 'tcp';
  api: boolean;
}

/** A workspace's owner, desired state and apps (by name). */
export interface WorkspaceApps {
  workspace: string;
  tenant: string;
  state: 'running' | 'stopped';
  apps: Map<string, AppEntry>;
}

type TemplatePort = NonNullable<NonNullable<WorkspaceTemplate['spec']['containers']>[number]['ports']>[number];

/** The app a template port declares, if any (`app`, `appProtocol`, `api`). */
export function appOfPort(p: TemplatePort, container: string): AppEntry | undefined {
  if (p.app === undefined) return undefined;
  return { name: p.app, container, containerPort: p.containerPort, protocol: p.appProtocol ?? 'http', api: p.api === true };
}

/** The apps of every workspace of `repo` (workspaces whose template is missing have none). */
export function indexApps(repo: InfraRepo): Map<string, WorkspaceApps> {
  const byTemplate = new Map<string, Map<string, AppEntry>>();
  for (const [name, { doc }] of repo.templates) {
    const apps = new Map<string, AppEntry>();
    for (const c of doc.spec.containers ?? []) {
      for (const port of c.ports ?? []) {
        const a = appOfPort(port, c.name);
        if (a !== undefined && !apps.has(a.name)) apps.set(a.name, a);
      }
    }
    byTemplate.set(name, apps);
  }
  const index = new Map<string, WorkspaceApps>();
  for (const [name, { doc }] of repo.workspaces) {
    index.set(name, { workspace: name, tenant: doc.spec.tenant, state: doc.spec.state ?? 'running', apps: byTemplate.get(doc.spec.template) ?? new Map() });
  }
  return index;
}

/** The index of the latest repo a source returns, rebuilt only when its revision changes. */
export class AppIndex {
  private built: { revision: string; index: Map<string, WorkspaceApps> } | undefined;

  /** `repo` returns the repo at the tip, cached by its owner (the workspace service): no Git read per call. */
  constructor(private readonly repo: () => Promise<InfraRepo>) {}

  /** The workspace's apps, or undefined when there is no such workspace. */
  async workspace(name: string): Promise<WorkspaceApps | undefined> {
    const repo = await this.repo();
    if (this.built?.revision !== repo.revision) this.built = { revision: repo.revision, index: indexApps(repo) };
    return this.built.index.get(name);
  }
}

/** Builds an InfraRepo from plain documents for unit tests of the pure core (no files, no validation). */
import { emptyInfraRepo, type InfraRepo, type Located } from '../../common/infra/model.js';

type Doc = { kind: string; metadata: { name: string }; spec: Record<string, unknown> };

/** An InfraRepo holding `docs` (each placed at a synthetic source position). */
export function repoOf(docs: Doc[], revision = 'rev1'): InfraRepo {
  const repo = emptyInfraRepo(revision);
  const maps: Record<string, Map<string, Located<never>>> = {
    Node: repo.nodes as never,
    NodeProfile: repo.profiles as never,
    Service: repo.services as never,
    WorkspaceTemplate: repo.templates as never,
    Tenant: repo.tenants as never,
    Workspace: repo.workspaces as never,
    PriceList: repo.priceLists as never,
    Secret: repo.secrets as never,
  };
  docs.forEach((d, i) => {
    const full = { apiVersion: 'foundry.cloud/v1', ...d };
    const located = { doc: full as never, source: { file: `doc${i}.yaml`, line: 1, column: 1 } };
    if (d.kind === 'Cluster') repo.cluster = located;
    else maps[d.kind]?.set(d.metadata.name, located);
  });
  return repo;
}

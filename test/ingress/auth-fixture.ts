/** Test support for the ingress's authorisation: a hub on a hosted repo with two tenants' workspaces whose template declares apps, users and a shared clock. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../hub/app.js';
import { HubStore } from '../../hub/store/hub-store.js';
import type { AppsUrl } from '../../common/ingress/apps-url.js';
import { fleetFiles, hostedRepo, type RepoFiles } from '../workspaces/git-fixture.js';
import { addUser } from '../dashboard/support.js';

const doc = (kind: string, name: string, spec: string): string => `apiVersion: foundry.cloud/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n${spec}`;

/** A template `web` with two apps (`web`, and `llm`, an API) and one workspace of each tenant using it. */
export function appFiles(image = 'localhost/foundry-test:1', command = '[sleep, "3600"]'): RepoFiles {
  return {
    ...fleetFiles({ nodes: 1, gpus: 1 }),
    'templates/web.yaml': doc('WorkspaceTemplate', 'web', `  containers:\n    - name: main\n      image: ${image}\n      command: ${command}\n      ports:\n        - { containerPort: 8080, app: web }\n        - { containerPort: 8081, app: llm, api: true }\n`),
    'workspaces/acme/acme-one.yaml': doc('Workspace', 'acme-one', '  tenant: acme\n  template: web\n  gpus:\n    count: 0\n  node: gpu-01\n  state: running\n'),
    'workspaces/globex/globex-one.yaml': doc('Workspace', 'globex-one', '  tenant: globex\n  template: web\n  gpus:\n    count: 0\n  node: gpu-01\n  state: running\n'),
  };
}

/** A hub with users ada (admin), tom (acme) and eve (globex), and its clock. */
export interface AuthHub {
  url: string;
  app: FastifyInstance;
  store: HubStore;
  admin: string;
  clock: { t: number };
  close(): Promise<void>;
}

/** Starts it, with `apps` as the ingress's base (default http://apps.localhost:8480) and a decision TTL of 5 s. */
export async function startAuthHub(opts: { apps?: AppsUrl; files?: RepoFiles; realClock?: boolean; hubUrl?: string } = {}): Promise<AuthHub> {
  const dir = mkdtempSync(join(tmpdir(), 'foundry-appauth-'));
  const repoDir = await hostedRepo(dir, opts.files ?? appFiles());
  const store = new HubStore(join(dir, 'hub.db'));
  const clock = { t: Date.now() };
  const now = opts.realClock === true ? () => new Date() : () => new Date(clock.t);
  const apps = opts.apps ?? { domain: 'apps.localhost', scheme: 'http' as const, port: 8480 };
  const app = await buildApp({ store, repoDir, repoPollMs: 0, dashboard: { pollMs: 0, now }, ingress: { apps, hubPublicUrl: opts.hubUrl ?? 'http://127.0.0.1:1' }, appAuth: { now } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`;
  const admin = (await store.createAdminToken('appauth'));
  for (const [name, role, tenant] of [['ada', 'admin', undefined], ['tom', 'tenant', 'acme'], ['eve', 'tenant', 'globex']] as const) await addUser(store, name, role, tenant);
  return {
    url, app, store, admin, clock,
    async close() {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Placement with two hub replicas on one PostgreSQL and one hosted repo (each replica with its own data
 * dir, writer clone included; infra.git is the same directory, reached through a symlink as a shared
 * mount would be). Requests split across both replicas at a nearly full fleet: every GPU handed out at
 * most once and every free GPU used (placements decide and commit under the replicas' placement lock, on
 * a queue that re-reads a tip another replica pushed); an unplaced workspace an admin pushes is placed
 * by exactly one replica.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../hub/app.js';
import { HubStore } from '../../hub/store/hub-store.js';
import { HubLink } from '../../agent/link/hub-link.js';
import { loadInfraDir } from '../../common/infra/load.js';
import { createTestDatabase, postgresAvailable } from '../support/postgres.js';
import { describeIf, describeIfBuilt } from '../support/requires.js';
import { gitSync, hostedRepo, nearlyFull, showAtTip } from '../workspaces/git-fixture.js';
import { waitFor } from './support.js';

// Pushes run the pre-receive hook from dist/ (npm test builds first).
const describeBuilt = postgresAvailable() ? describeIfBuilt('dist/hub/git/pre-receive-hook.js') : describeIf(false, 'PostgreSQL', 'apt-get install postgresql');

interface Replica {
  app: FastifyInstance;
  store: HubStore;
  url: string;
  admin: string;
}


describeBuilt('placement with two replicas', () => {
  let root: string;
  let repoDir: string;
  let db: { url: string; drop(): Promise<void> };
  const replicas: Replica[] = [];
  const links: HubLink[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'foundry-replicas-place-'));
    repoDir = await hostedRepo(join(root, 'shared'), nearlyFull());
    db = await createTestDatabase();
    for (const name of ['a', 'b']) {
      const own = mkdtempSync(join(root, `${name}-`));
      symlinkSync(repoDir, join(own, 'infra.git'));
      const store = await HubStore.open(db.url, { poolSize: 4 });
      // polling off: the test decides when each replica syncs
      const app = await buildApp({ store, repoDir: join(own, 'infra.git'), repoPollMs: 0 });
      await app.listen({ port: 0, host: '127.0.0.1' });
      const addr = app.server.address();
      replicas.push({ app, store, url: `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`, admin: await store.createAdminToken(`admin-${name}`) });
    }
    // the agents connect to replica a only: replica b knows them online from the store
    for (const node of ['gpu-01', 'gpu-02', 'gpu-03']) {
      const credential = await replicas[0]!.store.issueNodeCredential(node);
      const link = new HubLink({ hubUrl: replicas[0]!.url, node, credential, stateDir: join(root, 'agents', node), hello: () => ({ appliedRevision: null, inventory: { gpus: [], resources: [] } }) }).start();
      links.push(link);
    }
    await waitFor(async () => (await replicas[1]!.store.nodes()).filter((n) => n.status === 'connected').length === 3, 10_000, 'agents connected');
  }, 120_000);

  afterAll(async () => {
    for (const l of links) await l.close();
    for (const r of replicas) {
      await r.app.close();
      await r.store.close();
    }
    await db?.drop();
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  it('hands out every free GPU exactly once when requests arrive at both replicas', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const r = replicas[i % 2]!;
        return fetch(`${r.url}/api/v1/workspaces`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${r.admin}` },
          body: JSON.stringify({ tenant: 'acme', template: 'tiny', gpus: { count: 1 }, name: `req-${i}` }),
        }).then(async (res) => ({ i, status: res.status, body: (await res.json()) as Record<string, unknown> }));
      }),
    );
    const placed = results.filter((r) => r.status === 201);
    expect(results.filter((r) => r.status !== 201).map((r) => r.body.code)).toEqual(Array(17).fill('PLACEMENT_NONE'));
    expect(placed).toHaveLength(3);
    const tree = mkdtempSync(join(root, 'final-'));
    gitSync(['clone', '--quiet', repoDir, tree], root);
    const repo = await loadInfraDir(tree);
    const held = [...repo.workspaces.values()].flatMap(({ doc }) => (doc.spec.gpus?.uuids ?? []).map((u) => `${doc.spec.node}/${u}`));
    expect(held).toHaveLength(12);
    expect(new Set(held).size).toBe(12);
    expect([...repo.workspaces.keys()].filter((n) => n.startsWith('req-')).sort()).toEqual(placed.map((r) => `req-${r.i}`).sort());
  });

  it('places an unplaced workspace an admin pushed once, whichever replicas sync', async () => {
    // free one GPU: delete a placed request through replica b
    const [one] = [...(await replicas[0]!.app.hub.gitops!.workspaces.repo()).workspaces.keys()].filter((n) => n.startsWith('req-'));
    await replicas[1]!.app.hub.gitops!.workspaces.remove(one!, 'admin:test');
    const admin = mkdtempSync(join(root, 'admin-'));
    gitSync(['clone', '--quiet', repoDir, admin], root);
    const file = join('workspaces', 'acme', 'pushed.yaml');
    mkdirSync(join(admin, 'workspaces', 'acme'), { recursive: true });
    writeFileSync(join(admin, file), 'apiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: pushed\nspec:\n  tenant: acme\n  template: tiny\n  gpus:\n    count: 1\n');
    gitSync(['add', '-A'], admin);
    gitSync(['commit', '--quiet', '-m', 'admin adds pushed'], admin);
    gitSync(['push', '--quiet', 'origin', 'HEAD:main'], admin);
    await Promise.all(replicas.map((r) => r.app.hub.gitops!.workspaces.sync()));
    expect(showAtTip(repoDir, file)).toMatch(/node: gpu-0[123]/);
    const places = (await replicas[0]!.store.auditLog()).filter((e) => e.action === 'workspace.place' && e.target === 'pushed');
    expect(places).toHaveLength(1);
    const log = gitSync(['--git-dir', repoDir, 'log', '--format=%s', '-n', '20', '--', file], root).stdout.trim().split('\n');
    // the admin's commit and one placement commit
    expect(log).toHaveLength(2);
  });
});

import { it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInfraDir } from '../../common/infra/load.js';
import { gitSync, nearlyFull } from './git-fixture.js';
import { startWsHub, type WsHub } from './hub-fixture.js';
import { describeIfBuilt } from '../support/requires.js';

const describeBuilt = describeIfBuilt('dist/hub/git/pre-receive-hook.js');


let hub: WsHub;
beforeAll(async () => {
  hub = await startWsHub(nearlyFull(), ['gpu-01', 'gpu-02', 'gpu-03']);
}, 60_000);
afterAll(async () => hub?.close());

describeBuilt('100 concurrent requests at a nearly full fleet', () => {
  it('never hands a GPU out twice and explains every refusal, while an admin pushes meanwhile', async () => {
    const admin = join(hub.dir, 'admin');
    gitSync(['clone', '--quiet', hub.repoDir, admin], hub.dir);
    const requests = Array.from({ length: 100 }, (_, i) =>
      fetch(`${hub.url}/api/v1/workspaces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${hub.admin}` },
        body: JSON.stringify({ tenant: i % 2 === 0 ? 'acme' : 'globex', template: 'tiny', gpus: { count: i % 10 === 9 ? 2 : 1 }, name: `req-${i}` }),
      }).then(async (r) => ({ i, status: r.status, body: (await r.json()) as Record<string, unknown> })),
    );
    // an admin's unrelated push lands while the requests are being decided: the writer re-fetches and retries
    writeFileSync(join(admin, 'NOTES.md'), 'maintenance window friday\n');
    gitSync(['add', '-A'], admin);
    gitSync(['commit', '--quiet', '-m', 'admin notes'], admin);
    gitSync(['push', '--quiet', 'origin', 'HEAD:main'], admin);
    const results = await Promise.all(requests);

    const placed = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 409);
    expect(placed.length + refused.length).toBe(100);
    expect(placed.length).toBe(3);
    for (const r of placed) expect((r.body.gpus as { uuids: string[] }).uuids).toHaveLength(1);
    for (const r of refused) {
      expect(r.body.code).toBe('PLACEMENT_NONE');
      expect(r.body.message).toMatch(new RegExp(`^no placement for req-${r.i}: 3 nodes: not enough free GPUs \\(need [12]\\)$`));
      expect((r.body.reasons as Array<{ nodes: number }>).reduce((a, x) => a + x.nodes, 0)).toBe(3);
    }

    // the final Git state: every GPU held at most once, only GPUs the nodes declare, the admin's change kept
    const tree = mkdtempSync(join(tmpdir(), 'foundry-final-'));
    try {
      gitSync(['clone', '--quiet', hub.repoDir, tree], hub.dir);
      const repo = await loadInfraDir(tree);
      expect(repo.issues).toEqual([]);
      const declared = new Set([...repo.nodes.values()].flatMap(({ doc }) => (doc.spec.gpus ?? []).map((g) => `${doc.metadata.name}/${g.uuid}`)));
      const held = [...repo.workspaces.values()].flatMap(({ doc }) => (doc.spec.gpus?.uuids ?? []).map((u) => `${doc.spec.node}/${u}`));
      expect(held).toHaveLength(12);
      expect(new Set(held).size).toBe(12);
      for (const h of held) expect(declared.has(h)).toBe(true);
      expect(existsSync(join(tree, 'NOTES.md'))).toBe(true);
      const placedNames = placed.map((r) => `req-${r.i}`).sort();
      expect([...repo.workspaces.keys()].filter((n) => n.startsWith('req-')).sort()).toEqual(placedNames);
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  }, 180_000);
});

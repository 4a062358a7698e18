/**
 * One InfraRepoWriter for the hub: the workspace service and enrollment commit through the same writer
 * (one clone, one commit queue). The service treats only its own commits as its own: a commit someone else
 * made through the writer (enrollment's node file) makes it re-read the fleet before the next placement.
 */
import { it, expect, beforeAll, afterAll, vi } from 'vitest';
import { describeIfBuilt } from '../support/requires.js';
import { fleetFiles, showAtTip } from './git-fixture.js';
import { startWsHub, type WsHub } from './hub-fixture.js';

// Pushes run the pre-receive hook from dist/: `npm test` builds first (in CI a missing build fails).
const describeBuilt = describeIfBuilt('dist/hub/git/pre-receive-hook.js');

let hub: WsHub;
beforeAll(async () => {
  hub = await startWsHub(fleetFiles({ nodes: 1, gpus: 2 }), ['gpu-01'], { repoPollMs: 0 });
}, 60_000);
afterAll(async () => hub?.close());

describeBuilt('the hub\'s one infra repo writer', () => {
  it('re-reads the fleet after a commit another part of the hub made through the writer, not after its own', async () => {
    const { writer, workspaces: ws } = hub.app.hub.gitops!;
    await ws.sync();
    // the service's own commit (a drain, which refreshes the placement state itself): the sync that sees it does not again
    expect(await ws.setDrain('gpu-01', true, 'admin:test')).toBe(true);
    const refresh = vi.spyOn(ws.placements, 'refresh');
    await ws.sync();
    expect(refresh).not.toHaveBeenCalled();
    // a commit through the same writer by someone else (enrollment writes node files this way)
    const done = await writer.commit(async () => ({ changes: [{ path: 'README-enrolled.md', content: 'x\n' }], message: 'another writer user' }));
    expect(done?.revision).toMatch(/^[0-9a-f]{40}$/);
    expect(showAtTip(hub.repoDir, 'README-enrolled.md')).toBe('x\n');
    await ws.sync();
    expect(refresh).toHaveBeenCalledTimes(1);
  });
});

/**
 * WorkspaceService.sync() asked for while a pass runs: that pass may have read the branch tip before the
 * revision the caller wants seen (a webhook's, a test's push), so the caller gets one more pass after it.
 */
import { it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeIfBuilt } from '../support/requires.js';
import { fleetFiles, gitSync, showAtTip } from './git-fixture.js';
import { startWsHub, type WsHub } from './hub-fixture.js';

// Pushes run the pre-receive hook from dist/: `npm test` builds first (in CI a missing build fails).
const describeBuilt = describeIfBuilt('dist/hub/git/pre-receive-hook.js');

let hub: WsHub;
beforeAll(async () => {
  hub = await startWsHub(fleetFiles({ nodes: 1, gpus: 2 }), ['gpu-01']);
}, 60_000);
afterAll(async () => hub?.close());

describeBuilt('workspace sync while a pass runs', () => {
  it('a sync called during a pass that read the old tip runs one more pass, which places what was pushed meanwhile', async () => {
    const ws = hub.app.hub.gitops!.workspaces;
    await ws.sync();
    const clone = join(hub.dir, 'admin');
    gitSync(['clone', '--quiet', hub.repoDir, clone], hub.dir);
    mkdirSync(join(clone, 'workspaces', 'acme'), { recursive: true });
    writeFileSync(join(clone, 'workspaces', 'acme', 'acme-late.yaml'), 'apiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: acme-late\nspec:\n  tenant: acme\n  template: tiny\n  gpus:\n    count: 1\n');
    gitSync(['add', '-A'], clone);
    gitSync(['commit', '--quiet', '-m', 'admin adds acme-late'], clone);
    const running = ws.sync(); // this pass reads the tip now, before the push
    await hub.app.hub.gitops!.writer.tip();
    gitSync(['push', '--quiet', 'origin', 'HEAD:main'], clone);
    await ws.sync(); // one call, no polling: it must include a pass that started after the push
    await running;
    expect(showAtTip(hub.repoDir, 'workspaces/acme/acme-late.yaml')).toContain('node: gpu-01');
  });
});

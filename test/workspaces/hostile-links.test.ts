/**
 * The hub's checkout cannot be steered by the repo's content (issue 17.4): a folder committed as a
 * relative symbolic link (`workspaces/globex -> ../../infra.git`) once made the repo writer put a
 * workspace file into the hub's own bare repository while the API answered 201. Real git, real hook.
 */
import { it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
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

const tip = (): string => gitSync(['--git-dir', hub.repoDir, 'rev-parse', 'refs/heads/main'], hub.dir).stdout.trim();

/** Commits `links` (path → target) straight into the bare repo, past the hook (what an external repo without it holds). */
function commitLinksPastHook(links: Record<string, string>): string {
  const env = { ...process.env, GIT_INDEX_FILE: join(hub.dir, 'hostile-index'), GIT_AUTHOR_NAME: 'admin', GIT_AUTHOR_EMAIL: 'admin@x', GIT_COMMITTER_NAME: 'admin', GIT_COMMITTER_EMAIL: 'admin@x' };
  const run = (args: string[], input?: string): string => {
    const r = spawnSync('git', ['--git-dir', hub.repoDir, ...args], { env, input, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  run(['read-tree', 'refs/heads/main']);
  for (const [path, target] of Object.entries(links)) run(['update-index', '--add', '--cacheinfo', `120000,${run(['hash-object', '-w', '--stdin'], target)},${path}`]);
  const commit = run(['commit-tree', run(['write-tree']), '-p', 'refs/heads/main', '-m', 'admin links a folder']);
  run(['update-ref', 'refs/heads/main', commit]);
  return commit;
}

describeBuilt('hostile links in the infra repo', () => {
  it('the pre-receive check refuses symbolic links in workspaces/ and nodes/, wherever they point', () => {
    const clone = join(hub.dir, 'admin');
    gitSync(['clone', '--quiet', hub.repoDir, clone], hub.dir);
    mkdirSync(join(clone, 'workspaces'), { recursive: true });
    symlinkSync('../../infra.git', join(clone, 'workspaces', 'globex'));
    symlinkSync('/etc', join(clone, 'nodes', 'extra'));
    gitSync(['add', '-A'], clone);
    gitSync(['commit', '--quiet', '-m', 'admin links folders'], clone);
    const before = tip();
    const push = gitSync(['push', 'origin', 'HEAD:main'], clone, true);
    expect(push.code).not.toBe(0);
    expect(push.stderr).toContain('remote:   nodes/extra:1:1: symbolic link refused in a folder the hub writes to (workspaces/, nodes/): expected a regular file or folder');
    expect(push.stderr).toContain('remote:   workspaces/globex:1:1: symbolic link refused in a folder the hub writes to (workspaces/, nodes/): expected a regular file or folder');
    expect(tip()).toBe(before);
  });

  it('a push the remote reports as done but that main does not hold is not answered 201', async () => {
    // a post-receive hook that puts main back where it was: the push "succeeds", main never gets the commit
    const hook = join(hub.repoDir, 'hooks', 'post-receive');
    writeFileSync(hook, '#!/bin/sh\nwhile read old new ref; do [ "$ref" = refs/heads/main ] && git update-ref refs/heads/main "$old"; done\nexit 0\n');
    chmodSync(hook, 0o755);
    try {
      const before = tip();
      const r = await hub.call('POST', '/api/v1/workspaces', { body: { tenant: 'acme', template: 'tiny', gpus: { count: 1 }, name: 'acme-lost' } });
      expect(r.status).toBe(422);
      expect(r.json.code).toBe('GIT_PUSH_REJECTED');
      expect(r.json.message).toMatch(/^commit [0-9a-f]{12} was pushed but main of the infra repo does not contain it$/);
      expect(tip()).toBe(before);
    } finally {
      writeFileSync(hook, '#!/bin/sh\nexit 0\n');
    }
  });

  it('a link that got into the repo anyway: the writer refuses to follow it, the API answers no 201 and nothing lands in the bare repo', async () => {
    const linked = commitLinksPastHook({ 'workspaces/globex': '../../infra.git' });
    const bareBefore = readdirSync(hub.repoDir).sort();
    const r = await hub.call('POST', '/api/v1/workspaces', { body: { tenant: 'globex', template: 'tiny', gpus: { count: 1 }, name: 'globex-x' } });
    expect(r.status).toBe(422);
    expect(r.json).toMatchObject({ code: 'INFRA_FILE', resource: 'workspaces/globex' });
    expect(r.json.message).toBe('refusing to write workspaces/globex/globex-x.yaml: workspaces/globex is a symbolic link in the infra repo; the hub never follows links (replace it with a real folder or file)');
    expect(readdirSync(hub.repoDir).sort()).toEqual(bareBefore);
    expect(existsSync(join(hub.repoDir, 'globex-x.yaml'))).toBe(false);
    expect(tip()).toBe(linked);
    expect(showAtTip(hub.repoDir, 'workspaces/globex/globex-x.yaml')).toBeUndefined();
    // the hub keeps answering
    expect((await hub.call('GET', '/api/v1/workspaces')).status).toBe(200);
  });
});

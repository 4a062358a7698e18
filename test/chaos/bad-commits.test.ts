/**
 * Bad commits against a running agent (real git, real Podman, ssh signature verification on): malformed
 * YAML, a schema error, a commit that deletes every workspace, one that deletes every file, and an
 * unsigned commit. Each is refused with its own reason, and the running containers are untouched (same
 * id, same start time, still running); a good signed commit afterwards applies.
 */
import { afterAll, beforeAll, expect, it, type TestContext } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeIf } from '../support/requires.js';
import { PODMAN_HOW, podmanAvailable, startPrivatePodman, TEST_IMAGE, type PrivatePodman } from '../support/podman.js';
import { commitRepo, initGitRepo, type RepoSpec } from '../agent/infra-fixture.js';
import { testAgent, type TestAgent } from '../agent/agent-harness.js';
import { git, makeKeys, sshSignArgs, type TestKeys } from '../agent/signing.js';
import { containerSnapshot } from './containers.js';
import { happened, tried } from './record.js';

const NODE = 'bad-01';
const sleeper = (tag: string): RepoSpec['templates'][string] => [{ name: 'main', image: TEST_IMAGE, pullPolicy: 'Never', command: ['sleep', '600'], env: { TAG: tag } }];
const spec = (ws: string[], over: Partial<RepoSpec> = {}): RepoSpec => ({ node: NODE, templates: { s: sleeper('v1') }, workspaces: Object.fromEntries(ws.map((w) => [w, { template: 's' }])), ...over });

describeIf(podmanAvailable(), 'podman', PODMAN_HOW)('bad commits against a running agent', () => {
  let pm: PrivatePodman;
  let tmp: string;
  let keys: TestKeys;
  let agent: TestAgent;
  let repo: string;

  beforeAll(async () => {
    pm = await startPrivatePodman();
    tmp = mkdtempSync(join(tmpdir(), 'fc-chaos-bad-'));
    keys = makeKeys(join(tmp, 'keys'));
    repo = join(tmp, 'repo');
    initGitRepo(repo);
    agent = testAgent(pm, repo, NODE, { mode: 'ssh', allowedSignersFile: keys.allowedSigners });
  });
  afterAll(async () => {
    await pm?.stop();
    agent?.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('refuses malformed YAML, schema errors, deleting everything and unsigned commits, and touches nothing that runs', async (ctx: TestContext) => {
    tried(ctx, 'bad commits against a running agent', 'with ssh signature verification on and 3 workspaces running: a signed commit with malformed YAML, one with a schema error, one that deletes every workspace, one that deletes every file, and an unsigned commit; after each, a reconcile');
    const sign = sshSignArgs(keys.aliceSsh);
    const good = commitRepo(repo, spec(['w1', 'w2', 'w3']), 'three workspaces', sign);
    expect((await agent.reconciler.trigger('test')).converged).toBe(true);
    const before = await containerSnapshot(pm.socketPath, NODE);
    expect(Object.keys(before)).toEqual(['fc-ws-w1-main', 'fc-ws-w2-main', 'fc-ws-w3-main']);

    const attempts: Array<{ what: string; commit: () => string; step: string; code: string; reason: string }> = [
      { what: 'malformed YAML', commit: () => commitRepo(repo, spec(['w1', 'w2', 'w3'], { extraFiles: { 'workspaces/broken.yaml': 'apiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata: {name: broken\nspec: [\n' } }), 'broken yaml', sign), step: 'load', code: 'INFRA_YAML', reason: 'ValidationFailed' },
      { what: 'schema error', commit: () => commitRepo(repo, spec(['w1', 'w2', 'w3'], { templates: { s: [{ name: 'main', image: TEST_IMAGE, pullPolicy: 'Sometimes', command: ['sleep', '600'] }] } }), 'bad pull policy', sign), step: 'load', code: 'INFRA_SCHEMA', reason: 'ValidationFailed' },
      { what: 'delete every workspace', commit: () => commitRepo(repo, spec([]), 'drop all workspaces', sign), step: 'guard', code: 'PRUNE_REFUSED', reason: 'PruneRefused' },
      {
        what: 'delete every file',
        commit: () => {
          git(repo, ['rm', '-rq', '.']);
          git(repo, [...sign, '-q', '-m', 'delete everything']);
          return git(repo, ['rev-parse', 'HEAD']);
        },
        step: 'load',
        code: 'INFRA_REFERENCE',
        reason: 'ValidationFailed',
      },
      { what: 'unsigned commit', commit: () => commitRepo(repo, spec(['w1'], { templates: { s: sleeper('v2') } }), 'unsigned'), step: 'verify', code: 'GIT_SIGNATURE', reason: 'SignatureRejected' },
    ];
    for (const a of attempts) {
      const rev = a.commit();
      const r = await agent.reconciler.trigger('test', { ignoreBackoff: true });
      const err = r.status.errors[0];
      const ready = r.status.conditions.find((c) => c.type === 'Ready');
      happened(ctx, `${a.what}: refused at step ${err?.step ?? '?'} with ${err?.code ?? '?'} (${ready?.reason ?? '?'}): "${(err?.message ?? '').slice(0, 110)}"`);
      expect(r.converged, a.what).toBe(false);
      expect(r.status.observedRevision, a.what).toBe(rev);
      expect(r.status.lastAppliedRevision, a.what).toBe(good);
      expect(err?.code, a.what).toBe(a.code);
      expect(err?.step, a.what).toBe(a.step);
      expect(ready?.reason, a.what).toBe(a.reason);
      expect(await containerSnapshot(pm.socketPath, NODE), a.what).toEqual(before);
    }
    happened(ctx, 'after each: the 3 containers kept their id and start time, still running');

    const fixed = commitRepo(repo, spec(['w1', 'w2', 'w3'], { templates: { s: sleeper('v3') } }), 'good again', sign);
    const ok = await agent.reconciler.trigger('test', { ignoreBackoff: true });
    expect(ok.converged).toBe(true);
    expect(ok.status.lastAppliedRevision).toBe(fixed);
    happened(ctx, 'a good signed commit afterwards applied (3 containers recreated with the new spec)');
  });
});

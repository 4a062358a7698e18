/**
 * The last good revision survives an agent restart (real Podman, real git): a new agent process over the
 * same state dir, with an invalid revision at the branch tip or with Git unreachable, repairs drift (a
 * container removed by hand) from the persisted good revision, and its status says so and why.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeIf } from '../support/requires.js';
import { PODMAN_HOW, podmanAvailable, startPrivatePodman, TEST_IMAGE, type PrivatePodman } from '../support/podman.js';
import { commitRepo, initGitRepo, type RepoSpec } from '../agent/infra-fixture.js';
import { managedContainers, testAgent, type TestAgent } from '../agent/agent-harness.js';

const sleeper = (tag: string): RepoSpec['templates'][string] => [{ name: 'main', image: TEST_IMAGE, pullPolicy: 'Never', command: ['sleep', '600'], env: { TAG: tag } }];
const BROKEN = { 'workspaces/broken.yaml': 'apiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: broken\nspec:\n  tenant: acme\n  template: s\n  state: sleeping\n' };

describeIf(podmanAvailable(), 'podman', PODMAN_HOW)('the last good revision across agent restarts (real podman, real git)', () => {
  let pm: PrivatePodman;
  let tmp: string;
  const agents: TestAgent[] = [];

  beforeAll(async () => {
    pm = await startPrivatePodman();
    tmp = mkdtempSync(join(tmpdir(), 'fc-lastgood-'));
    // Waits for the Podman test lock while another file uses Podman: allow for that.
  }, 600_000);
  afterAll(async () => {
    await pm?.stop();
    for (const a of agents) a.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** A node with workspaces `<letter>1` and `<letter>2` applied by a first agent process. */
  async function applied(node: string): Promise<{ repo: string; first: TestAgent; spec: (ws: string[], over?: Partial<RepoSpec>) => RepoSpec; good: string }> {
    const repo = join(tmp, node);
    initGitRepo(repo);
    const first = testAgent(pm, repo, node);
    agents.push(first);
    const spec = (ws: string[], over: Partial<RepoSpec> = {}): RepoSpec => ({ node, templates: { s: sleeper('v1') }, workspaces: Object.fromEntries(ws.map((w) => [`${node[0]}${w}`, { template: 's' }])), ...over });
    const good = commitRepo(repo, spec(['1', '2']), 'good');
    expect((await first.reconciler.trigger('test')).converged).toBe(true);
    return { repo, first, spec, good };
  }

  it('restart with an invalid revision at the tip: drift is repaired from the persisted good revision', async () => {
    const { repo, first, spec, good } = await applied('restart-01');
    const bad = commitRepo(repo, spec(['1'], { templates: { s: sleeper('v2') }, extraFiles: BROKEN }), 'broken');
    pm.podman(['rm', '-f', '-t', '0', 'fc-ws-r2-main']); // removed by hand while the agent was down
    const kept = (await managedContainers(pm, 'restart-01')).ids['fc-ws-r1-main'];

    const second = testAgent(pm, repo, 'restart-01', undefined, first); // a new process, same state dir
    const r = await second.reconciler.trigger('start');
    expect((await managedContainers(pm, 'restart-01')).lines).toEqual(['fc-ws-r1-main running', 'fc-ws-r2-main running']);
    expect((await managedContainers(pm, 'restart-01')).ids['fc-ws-r1-main']).toBe(kept);
    expect(r.status.observedRevision).toBe(bad);
    expect(r.status.desiredRevision).toBe(good);
    expect(r.status.resources.find((x) => x.id === 'ws.r2.main')).toMatchObject({ phase: 'Ready', reason: 'Created' });
    expect(r.status.runningFromLastGood).toEqual({ revision: good, restored: true, reason: r.status.errors[0]!.message });
    expect(r.status.errors[0]).toMatchObject({ step: 'load', code: 'INFRA_SCHEMA', resource: 'workspaces/broken.yaml:8' });
    expect(r.status.conditions[0]?.message).toMatch(new RegExp(`running from the last good revision ${good.slice(0, 12)} \\(restored from the state dir after a restart\\)$`));
    expect(second.logs.some((l) => l.event === 'last-good-restored' && l.revision === good)).toBe(true);
  });

  it('restart with Git unreachable: drift is repaired from the persisted good revision', async () => {
    const { first, good } = await applied('offline-01');
    pm.podman(['rm', '-f', '-t', '0', 'fc-ws-o1-main']);
    pm.podman(['stop', '-t', '0', 'fc-ws-o2-main']);

    const second = testAgent(pm, join(tmp, 'no-such-repo'), 'offline-01', undefined, first);
    const r = await second.reconciler.trigger('start');
    expect((await managedContainers(pm, 'offline-01')).lines).toEqual(['fc-ws-o1-main running', 'fc-ws-o2-main running']);
    expect(r.status.errors.map((e) => `${e.step} ${e.code}`)).toEqual(['fetch GIT_FETCH']);
    expect(r.status.desiredRevision).toBe(good);
    expect(r.status.runningFromLastGood).toMatchObject({ revision: good, restored: true });
  });
});

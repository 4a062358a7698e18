/**
 * The agent's safety rules with real Podman and git: a mass prune is refused (and reported) unless the
 * revision allows it; an invalid revision changes nothing, is reported with file and line, and drift is
 * still repaired from the last good revision; with signature verification on, unsigned and untrusted
 * commits are refused (real ssh keys, real `git commit -S`).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeIf } from '../support/requires.js';
import { PODMAN_HOW, podmanAvailable, startPrivatePodman, TEST_IMAGE, type PrivatePodman } from '../support/podman.js';
import { commitRepo, initGitRepo, type RepoSpec } from '../agent/infra-fixture.js';
import { managedContainers, testAgent, type TestAgent } from '../agent/agent-harness.js';
import { makeKeys, sshSignArgs, type TestKeys } from '../agent/signing.js';

const sleeper = (tag: string): RepoSpec['templates'][string] => [{ name: 'main', image: TEST_IMAGE, pullPolicy: 'Never', command: ['sleep', '600'], env: { TAG: tag } }];

describeIf(podmanAvailable(), 'podman', PODMAN_HOW)('agent safety rules (real podman, real git)', () => {
  let pm: PrivatePodman;
  let tmp: string;
  let keys: TestKeys;
  const agents: TestAgent[] = [];

  beforeAll(async () => {
    pm = await startPrivatePodman();
    tmp = mkdtempSync(join(tmpdir(), 'fc-safety-'));
    keys = makeKeys(join(tmp, 'keys'));
    // Waits for the Podman test lock while another file uses Podman: allow for that.
  }, 600_000);
  afterAll(async () => {
    await pm?.stop();
    for (const a of agents) a.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  function setup(node: string, verify?: Parameters<typeof testAgent>[3]): { repo: string; agent: TestAgent; spec: (ws: string[], over?: Partial<RepoSpec>) => RepoSpec } {
    const repo = join(tmp, node);
    initGitRepo(repo);
    const agent = testAgent(pm, repo, node, verify);
    agents.push(agent);
    // Workspace names carry the node's first letter: runtime names are per workspace, and the tests share one Podman.
    const spec = (ws: string[], over: Partial<RepoSpec> = {}): RepoSpec => ({ node, templates: { s: sleeper('v1') }, workspaces: Object.fromEntries(ws.map((w) => [`${node[0]}${w}`, { template: 's' }])), ...over });
    return { repo, agent, spec };
  }

  it('refuses a prune of most workspaces of the node, or all of them, reports it, and prunes once the revision allows it', async () => {
    const { repo, agent, spec } = setup('prune-01');
    commitRepo(repo, spec(['w1', 'w2', 'w3']), 'three workspaces');
    expect((await agent.reconciler.trigger('test')).converged).toBe(true);

    const rev = commitRepo(repo, spec(['w1']), 'drop two of three');
    const r = await agent.reconciler.trigger('test');
    expect(r.converged).toBe(false);
    expect((await managedContainers(pm, 'prune-01')).lines).toEqual(['fc-ws-pw1-main running', 'fc-ws-pw2-main running', 'fc-ws-pw3-main running']);
    const message = `refusing to prune 2 of 3 workspaces and services of node prune-01 at once (workspace pw2, workspace pw3) at ${rev}; remove one at a time, or set spec.allowMassPrune: true in cluster.yaml or nodes/prune-01.yaml in the revision that means it`;
    expect(r.status.errors).toEqual([{ step: 'guard', code: 'PRUNE_REFUSED', message, resource: 'node/prune-01' }]);
    expect(r.status.conditions[0]).toEqual({ type: 'Ready', status: 'False', reason: 'PruneRefused', message });
    expect(r.status.conditions[2]).toMatchObject({ type: 'Stalled', status: 'True', reason: 'PruneRefused' });
    expect(r.status.resources.find((x) => x.id === 'ws.pw2.main')).toMatchObject({ kind: 'container', workspace: 'pw2', phase: 'Stalled', reason: 'PruneRefused', message: `kept: ${message}` });
    expect(agent.logs.some((l) => l.event === 'prune-refused' && l.msg === message)).toBe(true);

    commitRepo(repo, spec([]), 'drop all');
    const all = await agent.reconciler.trigger('test');
    expect(all.status.errors[0]?.message).toMatch(/^refusing to prune 3 of 3 workspaces and services of node prune-01 at once/);
    expect((await managedContainers(pm, 'prune-01')).lines).toHaveLength(3);

    commitRepo(repo, spec(['w1'], { allowMassPrune: true }), 'drop two of three, meant');
    const ok = await agent.reconciler.trigger('test');
    expect(ok.converged).toBe(true);
    expect((await managedContainers(pm, 'prune-01')).lines).toEqual(['fc-ws-pw1-main running']);
  });

  it('an invalid revision changes nothing, is reported with file and line, and drift is still repaired from the last good one', async () => {
    const { repo, agent, spec } = setup('valid-01');
    const good = commitRepo(repo, spec(['w1', 'w2']), 'good');
    expect((await agent.reconciler.trigger('test')).converged).toBe(true);
    const before = (await managedContainers(pm, 'valid-01')).ids;

    const bad = commitRepo(repo, spec(['w1'], { templates: { s: sleeper('v2') }, extraFiles: { 'workspaces/broken.yaml': 'apiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: broken\nspec:\n  tenant: acme\n  template: s\n  state: sleeping\n' } }), 'broken');
    pm.podman(['stop', '-t', '0', 'fc-ws-vw2-main']);
    const r = await agent.reconciler.trigger('test');
    expect(r.converged).toBe(false);
    expect(r.status.observedRevision).toBe(bad);
    expect(r.status.lastAppliedRevision).toBe(good);
    expect(r.status.desiredRevision).toBe(good);
    expect(r.status.errors).toHaveLength(1);
    expect(r.status.errors[0]).toMatchObject({ step: 'load', code: 'INFRA_SCHEMA', resource: 'workspaces/broken.yaml:8' });
    expect(r.status.errors[0]?.message).toMatch(new RegExp(`^revision ${bad.slice(0, 12)} is invalid: workspaces/broken\\.yaml:8:10: spec\\.state: `));
    expect(r.status.issues).toEqual([expect.stringMatching(/^workspaces\/broken\.yaml:8:10: spec\.state: /)]);
    expect(r.status.conditions[0]).toMatchObject({ type: 'Ready', status: 'False', reason: 'ValidationFailed' });
    // Nothing of the bad revision was applied (vw2 is not pruned, vw1 not recreated), but vw2 was restarted.
    expect((await managedContainers(pm, 'valid-01')).lines).toEqual(['fc-ws-vw1-main running', 'fc-ws-vw2-main running']);
    expect((await managedContainers(pm, 'valid-01')).ids['fc-ws-vw1-main']).toBe(before['fc-ws-vw1-main']);
    expect(agent.logs.some((l) => l.event === 'keep-last-good' && l.revision === good)).toBe(true);
  });

  it('with ssh signature verification: applies signed commits only, refuses unsigned and untrusted ones', async () => {
    const { repo, agent, spec } = setup('signed-01', { mode: 'ssh', allowedSignersFile: keys.allowedSigners });
    const signed = commitRepo(repo, spec(['w1']), 'signed by alice', sshSignArgs(keys.aliceSsh));
    expect((await agent.reconciler.trigger('test')).converged).toBe(true);
    const before = (await managedContainers(pm, 'signed-01')).ids;

    const unsigned = commitRepo(repo, spec(['w1'], { templates: { s: sleeper('v2') } }), 'unsigned');
    const r = await agent.reconciler.trigger('test');
    expect(r.converged).toBe(false);
    expect(r.status.errors).toEqual([{ step: 'verify', code: 'GIT_SIGNATURE', message: `commit ${unsigned.slice(0, 12)} is not signed; signature verification (ssh) is on`, resource: unsigned }]);
    expect(r.status.conditions[0]).toMatchObject({ status: 'False', reason: 'SignatureRejected' });
    expect(r.status.lastAppliedRevision).toBe(signed);

    commitRepo(repo, spec(['w1'], { templates: { s: sleeper('v3') } }), 'signed by mallory', sshSignArgs(keys.mallorySsh));
    const m = await agent.reconciler.trigger('test');
    expect(m.status.errors[0]?.message).toMatch(/has an untrusted or bad ssh signature: its key SHA256:\S+ is not in the allowed signers file/);
    expect((await managedContainers(pm, 'signed-01')).ids['fc-ws-sw1-main']).toBe(before['fc-ws-sw1-main']);

    const good = commitRepo(repo, spec(['w1'], { templates: { s: sleeper('v4') } }), 'signed by alice again', sshSignArgs(keys.aliceSsh));
    const ok = await agent.reconciler.trigger('test');
    expect(ok.converged).toBe(true);
    expect(ok.status.lastAppliedRevision).toBe(good);
    expect(pm.podman(['inspect', '--format', '{{range .Config.Env}}{{println .}}{{end}}', 'fc-ws-sw1-main']).stdout).toContain('TAG=v4');
  });
});

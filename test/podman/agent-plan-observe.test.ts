/**
 * `foundry agent plan` observes the node it runs on (real Podman, the CLI as a process): with the same
 * agent configuration as `agent run` it lists what runs, read-only, and prints what matches as unchanged
 * and a changed spec as a recreate with its reason; `--no-observe` plans against an empty node.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeIf } from '../support/requires.js';
import { PODMAN_HOW, podmanAvailable, startPrivatePodman, TEST_IMAGE, type PrivatePodman } from '../support/podman.js';
import { commitRepo, initGitRepo, type RepoSpec } from '../agent/infra-fixture.js';
import { managedContainers, testAgent, type TestAgent } from '../agent/agent-harness.js';
import { PACKAGE_ROOT } from '../../common/paths.js';

const NODE = 'plan-01';
const BIN = join(PACKAGE_ROOT, 'bin', 'foundry.js');
const spec = (image: string, tag: string): RepoSpec => ({ node: NODE, templates: { s: [{ name: 'main', image, pullPolicy: 'Never', command: ['sleep', '600'], env: { TAG: tag } }] }, workspaces: { 'po-a': { template: 's' } } });

describeIf(podmanAvailable(), 'podman', PODMAN_HOW)('agent plan observes the node (real podman, CLI process)', () => {
  let pm: PrivatePodman;
  let tmp: string;
  let repo: string;
  let config: string;
  let agent: TestAgent;

  beforeAll(async () => {
    pm = await startPrivatePodman();
    tmp = mkdtempSync(join(tmpdir(), 'fc-plan-'));
    repo = join(tmp, 'repo');
    initGitRepo(repo);
    agent = testAgent(pm, repo, NODE);
    config = join(tmp, 'agent.yaml');
    writeFileSync(config, `node: ${NODE}\nrepo:\n  url: ${repo}\nstateDir: ${join(tmp, 'state')}\ncacheDir: ${join(tmp, 'cache')}\npodman:\n  socketPath: ${pm.socketPath}\n`);
    // Waits for the Podman test lock while another file uses Podman: allow for that.
  }, 600_000);
  afterAll(async () => {
    await pm?.stop();
    agent?.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  const plan = (...args: string[]) => spawnSync(process.execPath, [BIN, 'agent', 'plan', '--repo', repo, ...args], { encoding: 'utf8' });

  it('prints what runs and matches as unchanged, a changed spec as recreate with the reason, and changes nothing', async () => {
    commitRepo(repo, spec(TEST_IMAGE, 'v1'), 'one workspace');
    expect((await agent.reconciler.trigger('test')).converged).toBe(true);
    const before = await managedContainers(pm, NODE);

    const same = plan('--config', config);
    expect(same.stderr).toBe('');
    expect(same.status).toBe(0);
    expect(same.stdout.split('\n')).toEqual([
      `node ${NODE} (profile test-node) at revision worktree, observed podman`,
      'noop     network   ws.po-a.net  (unchanged)',
      'noop     container ws.po-a.main  (unchanged)',
      `plan for ${NODE} at worktree: 0 to create, 0 to recreate, 0 to start, 0 to stop, 0 to remove, 2 unchanged`,
      '',
    ]);

    commitRepo(repo, spec('localhost/foundry-test:2', 'v1'), 'new image');
    const changed = plan('--config', config, '--json');
    expect(changed.status).toBe(0);
    const body = JSON.parse(changed.stdout) as { observed: string; note: string | null; actions: { type: string; kind: string; id: string; reason: string }[] };
    expect(body.observed).toBe('podman');
    expect(body.note).toBeNull();
    expect(body.actions.map((a) => `${a.type} ${a.kind} ${a.id}: ${a.reason}`)).toEqual([
      'noop network ws.po-a.net: unchanged',
      `recreate container ws.po-a.main: recreate: image changed from ${TEST_IMAGE} to localhost/foundry-test:2`,
    ]);
    pm.podman(['stop', '-t', '0', 'fc-ws-po-a-main']);
    commitRepo(repo, spec(TEST_IMAGE, 'v1'), 'back');
    expect(plan('--config', config).stdout).toContain('start    container ws.po-a.main  (start: found stopped, expected running (stopped outside the agent or crashed))');

    // Read-only: the same containers (ids) and nothing new; the stopped one stays stopped.
    const after = await managedContainers(pm, NODE);
    expect(after.ids).toEqual(before.ids);
    expect(after.lines).toEqual(['fc-ws-po-a-main exited']);
  });

  it('--no-observe plans against an empty node; an unreachable Podman is named in the note', () => {
    const empty = plan('--config', config, '--no-observe');
    expect(empty.status).toBe(0);
    expect(empty.stdout.split('\n').slice(0, 2)).toEqual([`node ${NODE} (profile test-node) at revision worktree, observed nothing`, 'note: not observed (--no-observe): planning against an empty node']);
    const down = join(tmp, 'down.yaml');
    writeFileSync(down, `node: ${NODE}\nrepo:\n  url: ${repo}\npodman:\n  socketPath: ${join(tmp, 'nobody.sock')}\n`);
    const r = plan('--config', down);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[1]).toMatch(/^note: podman unreachable \(.*\): planning against an empty node$/);
    expect(r.stdout).toContain('create   container ws.po-a.main  (create: declared and not present)');
  });
});

/**
 * The hub signs its own commits (issue 16.7), end to end with signature verification on: a real hub (its
 * SSH key generated at first start), a real agent (GitSource, verification against an allowed signers
 * file, the Podman driver on a private Podman). The admin's signed commit and the hub's signed placement
 * apply; the hub's enrollment commit is signed too; an unsigned commit pushed by someone else is refused.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHub, type RunningHub } from '../../hub/server.js';
import { HubLink } from '../../agent/link/hub-link.js';
import { verifyCommitSignature } from '../../agent/source/verify-signature.js';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { describeIf } from '../support/requires.js';
import { PODMAN_HOW, podmanAvailable, startPrivatePodman, TEST_IMAGE, type PrivatePodman } from '../support/podman.js';
import { managedContainers, testAgent, type TestAgent } from '../agent/agent-harness.js';
import { makeKeys, sshSignArgs, type TestKeys } from '../agent/signing.js';
import { fleetFiles, gitSync, writeFiles } from './git-fixture.js';

const workspace = (name: string, extra = ''): string =>
  `apiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: ${name}\nspec:\n  tenant: acme\n  template: plain\n  node: sig-01\n  gpus:\n    count: 0\n${extra}`;

describeIf(podmanAvailable(), 'podman', PODMAN_HOW)('the hub signs its commits; agents with verification on apply them (real hub, agent, podman)', () => {
  let pm: PrivatePodman;
  let dir: string;
  let keys: TestKeys;
  let hub: RunningHub;
  let link: HubLink;
  let agent: TestAgent;
  let admin: string;
  let repoDir: string;
  let allowed: string;
  let clone: string;

  beforeAll(async () => {
    pm = await startPrivatePodman();
    dir = mkdtempSync(join(tmpdir(), 'foundry-hub-signing-'));
    keys = makeKeys(join(dir, 'keys'));
    const seed = join(dir, 'seed');
    const files = fleetFiles({ nodes: 0 });
    // a profile without baseline containers (the built-in ones pull images no registry here serves)
    files['profiles/sig-node.yaml'] = 'apiVersion: foundry.cloud/v1\nkind: NodeProfile\nmetadata:\n  name: sig-node\nspec:\n  description: test node\n  hostsWorkspaces: true\n';
    files['nodes/sig-01.yaml'] = 'apiVersion: foundry.cloud/v1\nkind: Node\nmetadata:\n  name: sig-01\nspec:\n  profile: sig-node\n';
    files['templates/plain.yaml'] = `apiVersion: foundry.cloud/v1\nkind: WorkspaceTemplate\nmetadata:\n  name: plain\nspec:\n  containers:\n    - name: main\n      image: ${TEST_IMAGE}\n      pullPolicy: Never\n      command: [sleep, "600"]\n`;
    writeFiles(seed, files);
    allowed = join(dir, 'allowed_signers');
    // the hub re-reads this file at each commit: written below, once the hub's key exists
    hub = await startHub({ dataDir: join(dir, 'hub'), port: 0, seedFrom: seed, repoPollMs: 0, allowedSignersFile: allowed, logger: false });
    repoDir = join(dir, 'hub', 'infra.git');
    admin = (await hub.store.createAdminToken('test'));
    link = new HubLink({ hubUrl: hub.url, node: 'sig-01', credential: (await hub.store.issueNodeCredential('sig-01')), stateDir: join(dir, 'link'), hello: () => ({ appliedRevision: null, inventory: { gpus: [], resources: [] } }) }).start();
    const end = Date.now() + 30_000;
    while (!hub.app.hub.gateway.connectedNodes().includes('sig-01')) {
      if (Date.now() > end) throw new Error('agent link did not connect');
      await new Promise((r) => setTimeout(r, 50));
    }
    // the allowed signers: the admin's key, and the hub's line as the hub serves it
    const served = await fetch(`${hub.url}/api/v1/hub/signing-key`).then((r) => r.text());
    writeFileSync(allowed, `${readFileSync(keys.allowedSigners, 'utf8')}${served}`);
    agent = testAgent(pm, repoDir, 'sig-01', { mode: 'ssh', allowedSignersFile: allowed });
    clone = join(dir, 'admin');
    gitSync(['clone', '--quiet', repoDir, clone], dir);
  }, 600_000);
  afterAll(async () => {
    await link?.close();
    await hub?.close();
    await pm?.stop();
    agent?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const policy = (): { mode: 'ssh'; allowedSignersFile: string } => ({ mode: 'ssh', allowedSignersFile: allowed });

  it('generates its key at first start (0600), prints it (`foundry hub signing-key`) and serves the same line', async () => {
    const key = join(dir, 'hub', 'signing', 'hub_ed25519');
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'hub', 'signing')).mode & 0o777).toBe(0o700);
    expect(hub.signingKey).toMatch(/^foundry-hub namespaces="git" ssh-ed25519 [A-Za-z0-9+/=]+$/);
    const cli = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin', 'foundry.js'), 'hub', 'signing-key', '--data-dir', join(dir, 'hub')], { encoding: 'utf8' });
    expect(cli.status).toBe(0);
    expect(cli.stdout).toBe(`${hub.signingKey}\n`);
    expect(await fetch(`${hub.url}/api/v1/hub/signing-key`).then((r) => r.text())).toBe(`${hub.signingKey}\n`);
  });

  it('the admin\'s signed commit and the hub\'s signed placement both apply on the agent', async () => {
    writeFiles(clone, { 'workspaces/acme/sig-admin.yaml': workspace('sig-admin') });
    gitSync(['add', '-A'], clone);
    gitSync(['-c', 'user.name=Alice', '-c', 'user.email=alice@example.com', ...sshSignArgs(keys.aliceSsh), '--quiet', '-m', 'admin adds sig-admin'], clone);
    gitSync(['push', '--quiet', 'origin', 'HEAD:main'], clone);
    const adminRev = gitSync(['rev-parse', 'HEAD'], clone).stdout.trim();
    const a = await agent.reconciler.trigger('test');
    expect(a.status.errors).toEqual([]);
    expect(a.converged).toBe(true);
    expect(a.status.lastAppliedRevision).toBe(adminRev);
    expect((await managedContainers(pm, 'sig-01')).lines).toEqual(['fc-ws-sig-admin-main running']);

    const res = await hub.app.inject({ method: 'POST', url: '/api/v1/workspaces', headers: { authorization: `Bearer ${admin}` }, payload: { tenant: 'acme', template: 'plain', gpus: { count: 0 }, name: 'sig-hub' } });
    expect(res.statusCode).toBe(201);
    const hubRev = (JSON.parse(res.body) as { revision: string; node: string }).revision;
    expect((await verifyCommitSignature(repoDir, hubRev, policy())).signer).toBe('foundry-hub');
    const h = await agent.reconciler.trigger('test');
    expect(h.status.errors).toEqual([]);
    expect(h.converged).toBe(true);
    expect(h.status.lastAppliedRevision).toBe(hubRev);
    expect((await managedContainers(pm, 'sig-01')).lines).toEqual(['fc-ws-sig-admin-main running', 'fc-ws-sig-hub-main running']);
  });

  it('the hub\'s enrollment commit is signed by the hub', async () => {
    const token = await hub.app.inject({ method: 'POST', url: '/api/v1/join-tokens', headers: { authorization: `Bearer ${admin}` }, payload: {} });
    expect(token.statusCode).toBe(201);
    const inventory = { hostname: 'n2.example', cpu: { model: 'x', cores: 8 }, memoryBytes: 2 ** 34, disks: [{ mount: '/', sizeBytes: 10 ** 11 }], gpus: [] };
    const res = await hub.app.inject({ method: 'POST', url: '/api/v1/enroll', payload: { token: (JSON.parse(token.body) as { token: string }).token, node: 'sig-02', hubUrl: hub.url, inventory } });
    expect(res.statusCode).toBe(201);
    const nodeFile = (JSON.parse(res.body) as { nodeFile: { status: string; revision: string } }).nodeFile;
    expect(nodeFile.status).toBe('committed');
    expect((await verifyCommitSignature(repoDir, nodeFile.revision, policy())).signer).toBe('foundry-hub');
  });

  it('an unsigned commit pushed by someone else is refused; what runs stays', async () => {
    const before = (await managedContainers(pm, 'sig-01')).ids;
    const applied = (await agent.reconciler.trigger('test')).status.lastAppliedRevision;
    gitSync(['pull', '--quiet', 'origin', 'main'], clone);
    writeFiles(clone, { 'workspaces/acme/sig-admin.yaml': workspace('sig-admin', '  state: stopped\n') });
    gitSync(['-c', 'commit.gpgsign=false', 'commit', '--quiet', '-am', 'someone stops sig-admin, unsigned'], clone);
    gitSync(['push', '--quiet', 'origin', 'HEAD:main'], clone);
    const unsigned = gitSync(['rev-parse', 'HEAD'], clone).stdout.trim();
    const r = await agent.reconciler.trigger('test');
    expect(r.converged).toBe(false);
    expect(r.status.errors).toEqual([{ step: 'verify', code: 'GIT_SIGNATURE', message: `commit ${unsigned.slice(0, 12)} is not signed; signature verification (ssh) is on`, resource: unsigned }]);
    expect(r.status.lastAppliedRevision).toBe(applied);
    expect((await managedContainers(pm, 'sig-01')).ids).toEqual(before);
    expect((await managedContainers(pm, 'sig-01')).lines).toEqual(['fc-ws-sig-admin-main running', 'fc-ws-sig-hub-main running']);
    // nor does the hub sign on top of it (its signature would carry the unsigned commit past the agents)
    const res = await hub.app.inject({ method: 'POST', url: '/api/v1/workspaces', headers: { authorization: `Bearer ${admin}` }, payload: { tenant: 'acme', template: 'plain', gpus: { count: 0 }, name: 'sig-late' } });
    expect(res.statusCode).toBe(409);
    expect(JSON.parse(res.body)).toMatchObject({
      code: 'GIT_SIGNATURE',
      message: `the infra repo's tip ${unsigned.slice(0, 12)} is not signed by an allowed key: the hub does not commit on top of it (its signature would carry that commit past the agents' verification); push a signed commit first`,
    });
    expect(gitSync(['--git-dir', repoDir, 'rev-parse', 'refs/heads/main'], dir).stdout.trim()).toBe(unsigned);
  });
});

/**
 * Repo secrets end to end on a real Podman and a real git repo: `foundry secret encrypt` (to the node's
 * key from its state dir) → commit → the agent decrypts and hands the values to the container as Podman
 * secrets → the container reads them. Then the plaintext is searched for everywhere the agent and git
 * write: it appears only inside the container (and in Podman's own secret store). A changed value
 * recreates exactly the container using it; a truncated file or one encrypted to another key keeps the
 * last good value running and says which secret and file.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadOrCreateNodeIdentity } from '../../agent/secrets/node-identity.js';
import { encryptToRecipients, generateAgeKeyPair } from '../../common/secrets/age.js';
import { encryptSecret } from '../../cli/secret-files.js';
import { managedContainers, testAgent, type TestAgent } from '../agent/agent-harness.js';
import { commitRepo, initGitRepo, type RepoSpec } from '../agent/infra-fixture.js';
import { git } from '../agent/signing.js';
import { PODMAN_HOW, podmanAvailable, startPrivatePodman, TEST_IMAGE, type PrivatePodman } from '../support/podman.js';
import { describeIf } from '../support/requires.js';

const NODE = 'sec-01';
const DB_PASSWORD = 'pw-7Hq2-unlikely-anywhere-9xK';
const API_TOKEN = 'tok-4Zr8-unlikely-anywhere-2mP';
const DB_PASSWORD_2 = 'pw2-Vb6n-unlikely-anywhere-1Qe';

/** Every file under `dir` whose bytes contain `needle` (paths relative to `dir`). */
function filesContaining(dir: string, needle: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && statSync(p).size < 64 * 1024 * 1024 && readFileSync(p).includes(needle)) out.push(p.slice(dir.length + 1));
    }
  };
  walk(dir);
  return out;
}

describeIf(podmanAvailable(), 'podman', PODMAN_HOW)('repo secrets on a real Podman', () => {
  let pm: PrivatePodman;
  let tmp: string;
  let repo: string;
  let agent: TestAgent;
  let spec: RepoSpec;

  beforeAll(async () => {
    pm = await startPrivatePodman();
    tmp = mkdtempSync(join(tmpdir(), 'fc-secrets-'));
    repo = join(tmp, 'infra');
    initGitRepo(repo);
    agent = testAgent(pm, repo, NODE);
    const { recipient } = await loadOrCreateNodeIdentity(agent.stateDir);
    const admin = await generateAgeKeyPair();
    mkdirSync(join(repo, '.foundry'), { recursive: true });
    writeFileSync(join(repo, '.foundry', 'admin-recipients'), `${admin.recipient} # alice\n`);
    const nodeDoc = stringify({ apiVersion: 'foundry.cloud/v1', kind: 'Node', metadata: { name: NODE }, spec: { profile: 'test-node', ageRecipient: recipient } });
    spec = {
      node: NODE,
      templates: {
        app: [
          { name: 'db', image: TEST_IMAGE, pullPolicy: 'Never', command: ['sh', '-c', 'echo "file=$(cat /run/secrets/db-password)"; echo "env=$API_TOKEN"; sleep 600'], secrets: [{ name: 'db-password', file: '/run/secrets/db-password' }, { name: 'api-token', env: 'API_TOKEN' }] },
          { name: 'web', image: TEST_IMAGE, pullPolicy: 'Never', command: ['sh', '-c', 'echo "env=$API_TOKEN"; sleep 600'], secrets: [{ name: 'api-token', env: 'API_TOKEN' }] },
          { name: 'plain', image: TEST_IMAGE, pullPolicy: 'Never', command: ['sleep', '600'] },
        ],
      },
      workspaces: { w1: { template: 'app' } },
      extraFiles: { [`nodes/${NODE}.yaml`]: nodeDoc },
    };
    // First the repo files, so `foundry secret encrypt` knows which nodes need the secrets.
    commitRepo(repo, spec, 'workspace w1 without its secrets yet');
    await encryptSecret(repo, 'db-password', Buffer.from(DB_PASSWORD));
    await encryptSecret(repo, 'api-token', Buffer.from(API_TOKEN));
    commitRepo(repo, spec, 'secrets for w1');
  }, 600_000);
  afterAll(async () => {
    await pm?.stop();
    agent?.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  const logsOf = (name: string): string => pm.podman(['logs', name]).stdout;

  it('the container reads its secrets as a file and as an env variable; the values are nowhere else', async () => {
    const r = await agent.reconciler.trigger('test');
    expect(r.status.errors).toEqual([]);
    expect(r.converged).toBe(true);
    await expect.poll(() => logsOf('fc-ws-w1-db'), { timeout: 20_000 }).toContain(`file=${DB_PASSWORD}\nenv=${API_TOKEN}\n`);
    expect(logsOf('fc-ws-w1-web')).toContain(`env=${API_TOKEN}`);
    expect(readFileSync(join(repo, 'secrets', 'db-password.yaml'), 'utf8')).toContain(`node: ${NODE}`);

    const history = git(repo, ['log', '-p', '--all']);
    expect(history).toContain('BEGIN AGE ENCRYPTED FILE');
    const inspect = pm.podman(['inspect', ...pm.podman(['ps', '-aq']).stdout.trim().split('\n')]).stdout;
    for (const value of [DB_PASSWORD, API_TOKEN]) {
      expect(history).not.toContain(value);
      expect(filesContaining(repo, value)).toEqual([]);
      // the agent's state dir (status.json, last-good.json, node key) and its git cache
      expect(filesContaining(agent.dir, value)).toEqual([]);
      expect(JSON.stringify(agent.logs)).not.toContain(value);
      expect(JSON.stringify(r.status)).not.toContain(value);
    }
    // A file secret never shows in podman inspect. An env secret does, in Config.Env only: Podman before
    // 5.3 (containers/podman#23788) reports the container's environment there; see docs/secrets.md.
    expect(inspect).not.toContain(DB_PASSWORD);
    const envShown = JSON.parse(inspect) as { Name: string; Config: { Env: string[] } }[];
    for (const c of envShown) {
      const rest = JSON.stringify({ ...c, Config: { ...c.Config, Env: [] } });
      expect(rest).not.toContain(API_TOKEN);
    }
    const labels = JSON.stringify(envShown.map((c) => (c as unknown as { Config: { Labels: unknown } }).Config.Labels));
    expect(labels).toContain('foundry.cloud/secrets');
  });

  it('a new value recreates exactly the container that uses it, and the old Podman secret is pruned', async () => {
    const before = (await managedContainers(pm, NODE)).ids;
    await encryptSecret(repo, 'db-password', Buffer.from(DB_PASSWORD_2));
    commitRepo(repo, spec, 'rotate db-password');
    const r = await agent.reconciler.trigger('test');
    expect(r.converged).toBe(true);
    const after = (await managedContainers(pm, NODE)).ids;
    expect(after['fc-ws-w1-db']).not.toBe(before['fc-ws-w1-db']);
    expect(after['fc-ws-w1-web']).toBe(before['fc-ws-w1-web']);
    expect(after['fc-ws-w1-plain']).toBe(before['fc-ws-w1-plain']);
    await expect.poll(() => logsOf('fc-ws-w1-db'), { timeout: 20_000 }).toContain(`file=${DB_PASSWORD_2}`);
    // one secret per value in use: db-password (new) and api-token
    expect(pm.podman(['secret', 'ls', '--format', '{{.Name}}']).stdout.trim().split('\n').sort()).toHaveLength(2);
  });

  it('a truncated file and a file for another key keep the last good value running and name the secret and file', async () => {
    const running = (await managedContainers(pm, NODE)).ids['fc-ws-w1-db'];
    const file = join(repo, 'secrets', 'db-password.age');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, good.slice(0, good.length - 60));
    commitRepo(repo, spec, 'truncated secret');
    let r = await agent.reconciler.trigger('test');
    expect(r.converged).toBe(false);
    // The loader checks every age file (as the hub's pre-receive does): the revision is refused whole, naming
    // the secret and the file, and the node keeps its last good revision running.
    expect(r.status.errors[0]).toMatchObject({ step: 'load', code: 'INFRA_FILE', resource: 'secrets/db-password.yaml:6' });
    // on the last good revision (restored without its files) the containers with secrets are held as they run
    expect(r.status.errors.slice(1).map((e) => [e.step, e.code, e.resource])).toEqual([['secrets', 'SECRET_UNAVAILABLE', 'ws.w1.db'], ['secrets', 'SECRET_UNAVAILABLE', 'ws.w1.web']]);
    expect(r.status.errors[0]!.message).toMatch(/secrets\/db-password\.yaml:6:9: metadata\.name: secret db-password: secrets\/db-password\.age: the armored age file has no END line: it is truncated$/);
    expect((await managedContainers(pm, NODE)).ids['fc-ws-w1-db']).toBe(running);
    expect((await managedContainers(pm, NODE)).lines).toContain('fc-ws-w1-db running');

    // As many recipients as the sidecar lists (admin and node), so the loader's stanza count holds: only decryption tells.
    const others = [await generateAgeKeyPair(), await generateAgeKeyPair()];
    writeFileSync(file, await encryptToRecipients('for someone else', others.map((o) => o.recipient)));
    commitRepo(repo, spec, 'secret for another node');
    r = await agent.reconciler.trigger('test');
    expect(r.status.errors[0]!.message).toContain('secret db-password: secrets/db-password.age');
    expect(r.status.errors[0]!.message).toContain('no key of this node can decrypt it');
    const after = await managedContainers(pm, NODE);
    expect(after.ids['fc-ws-w1-db']).toBe(running);
    expect(after.lines).toContain('fc-ws-w1-db running');
    // stopped by hand: restarted with its Podman secret, which was kept
    pm.podman(['stop', '-t', '0', 'fc-ws-w1-db']);
    r = await agent.reconciler.trigger('test');
    expect((await managedContainers(pm, NODE)).lines).toContain('fc-ws-w1-db running');
    expect(execFileSync('podman', [...pm.flags, 'exec', 'fc-ws-w1-db', 'cat', '/run/secrets/db-password'], { env: pm.env, encoding: 'utf8' })).toBe(DB_PASSWORD_2);
  });
});

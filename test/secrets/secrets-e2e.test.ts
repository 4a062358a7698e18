/**
 * Secrets end to end through the production path: a real hub (hosted repo, SQLite, its own age key) and
 * the node agent as `foundry agent run` starts it (real git, real Podman, the hub link through a relay
 * that records every WebSocket message). A workspace whose template uses a repo secret (file) and a
 * tenant secret (env) is placed: the placement commit re-encrypts the repo secret to the node; the tenant
 * sets its secret through the API; the container reads both values; a new value recreates it; a damaged
 * stored value keeps the last good one. Then the workspace moves to another node: the old node is told
 * to drop it and sent nothing new, and cannot decrypt the repo secret's new version (age CLI). Finally
 * the plaintexts are searched in the hub's log, its database files, the agent's log, status and outbox,
 * `podman inspect` of every container and the captured frames: they appear only inside the container.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describeIf, onPath } from '../support/requires.js';
import { PODMAN_HOW, podmanAvailable, startPrivatePodman, TEST_IMAGE, type PrivatePodman } from '../support/podman.js';
import { managedContainers } from '../agent/agent-harness.js';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { resolveConfig } from '../../agent/config/load-config.js';
import { startNodeAgent, type NodeAgent } from '../../agent/node-agent.js';
import { loadOrCreateNodeIdentity, type NodeIdentity } from '../../agent/secrets/node-identity.js';
import { encryptToRecipients, generateAgeKeyPair } from '../../common/secrets/age.js';
import { ensureHubIdentity } from '../../hub/secrets/hub-identity.js';
import type { HubSecrets } from '../../agent/link/hub-link.js';
import { gitSync, showAtTip } from '../workspaces/git-fixture.js';
import { startWsHub, type WsHub } from '../workspaces/hub-fixture.js';
import { startWsRecorder, type WsRecorder } from './ws-recorder.js';

const OLD = 'gpu-01';
const NEW = 'gpu-02';
const WS = 'acme-sec';
const CONTAINER = `fc-ws-${WS}-main`;
const DB_PASSWORD = 'repo-db-pw-0f9e8d7c-marker';
const API_V1 = 'tenant-api-key-v1-4b3a-marker';
const API_V2 = 'tenant-api-key-v2-5c4b-marker';
const API_V3 = 'tenant-api-key-v3-6d5c-marker';
const PLAINTEXTS = [DB_PASSWORD, API_V1, API_V2, API_V3];
const built = existsSync(join(PACKAGE_ROOT, 'dist', 'hub', 'git', 'pre-receive-hook.js'));
const doc = (kind: string, name: string, spec: string): string => `apiVersion: foundry.cloud/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n${spec}`;

describeIf(podmanAvailable() && built && onPath('age'), 'podman, a build and the age CLI', `${PODMAN_HOW}; npm run build; apt-get install -y age`)('secrets end to end (real hub, real agent, real Podman, age CLI)', () => {
  let dir: string;
  let hub: WsHub;
  let pm: PrivatePodman;
  let node: NodeAgent | undefined;
  let relay: WsRecorder;
  let key1: NodeIdentity;
  let key2: { identity: string; recipient: string };
  const hubLog: string[] = [];
  const toNew: HubSecrets[] = [];
  let agentLog: string;

  const until = async <T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const inContainer = (cmd: string): string => pm.podman(['exec', CONTAINER, 'sh', '-c', cmd]).stdout;
  const apiKeyInside = (): string => inContainer("tr '\\0' '\\n' < /proc/1/environ | grep '^API_KEY=' | cut -d= -f2-").trim();
  const ageOpens = (identityFile: string, text: string): { ok: boolean; out: string } => {
    const r = spawnSync('age', ['-d', '-i', identityFile], { input: text, encoding: 'utf8' });
    return { ok: r.status === 0, out: r.stdout };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'foundry-secrets-e2e-'));
    const hubKey = await ensureHubIdentity(join(dir, 'hub-key'));
    const admin = await generateAgeKeyPair();
    key1 = await loadOrCreateNodeIdentity(join(dir, 'agent', 'state'));
    key2 = await generateAgeKeyPair();
    writeFileSync(join(dir, 'node2.key'), `${key2.identity}\n`, { mode: 0o600 });
    const files: Record<string, string> = {
      'cluster.yaml': doc('Cluster', 'main', '  hubUrl: http://127.0.0.1:1\n'),
      'tenants/acme.yaml': doc('Tenant', 'acme', '  displayName: ACME\n'),
      'tenants/globex.yaml': doc('Tenant', 'globex', '  displayName: Globex\n'),
      'pricing.yaml': doc('PriceList', 'default', '  currency: EUR\n  periods:\n    - effectiveFrom: "2026-01-01T00:00:00Z"\n      gpuHour:\n        NVIDIA H100 80GB HBM3: "2.49"\n'),
      // the built-in gpu-node profile runs node-exporter from quay.io, which cannot be pulled here
      'profiles/e2e.yaml': doc('NodeProfile', 'e2e', '  description: workspaces only\n  hostsWorkspaces: true\n'),
      [`nodes/${OLD}.yaml`]: doc('Node', OLD, `  profile: e2e\n  ageRecipient: ${key1.recipient}\n`),
      [`nodes/${NEW}.yaml`]: doc('Node', NEW, `  profile: e2e\n  ageRecipient: ${key2.recipient}\n`),
      'templates/sec.yaml': doc('WorkspaceTemplate', 'sec', `  containers:\n    - name: main\n      image: ${TEST_IMAGE}\n      pullPolicy: Never\n      command: [sleep, "600"]\n      secrets:\n        - { name: api-key, env: API_KEY, source: workspace }\n        - { name: db-password, file: /run/secrets/db, source: repo }\n`),
      // encrypted by an admin to the admins and the hub; no node runs a workload using it yet
      'secrets/db-password.yaml': doc('Secret', 'db-password', `  recipients:\n    - { admin: foundry-hub, recipient: ${hubKey.recipient} }\n    - { admin: ada, recipient: ${admin.recipient} }\n`),
      'secrets/db-password.age': await encryptToRecipients(DB_PASSWORD, [hubKey.recipient, admin.recipient]),
      '.foundry/admin-recipients': `${hubKey.recipient} # foundry-hub\n${admin.recipient} # ada\n`,
    };
    const stage = (what: string): void => void process.stderr.write(`[secrets-e2e ${new Date().toISOString()}] ${what}\n`);
    stage('starting the hub');
    hub = await startWsHub(files, [], { secrets: hubKey, logger: { level: 'debug', stream: { write: (l: string) => void hubLog.push(l) } } });
    relay = await startWsRecorder(hub.url);
    stage('starting podman');
    pm = await startPrivatePodman();
    stage('starting the agent');
    const credentialFile = join(dir, 'credential');
    writeFileSync(credentialFile, `${(await hub.store.issueNodeCredential(OLD))}\n`, { mode: 0o600 });
    const config = resolveConfig({
      node: OLD,
      // through the recorder, like the link: the agent sends its node credential to the hub's origin only
      repo: { url: `${relay.url}/git/infra.git`, branch: 'main' },
      cacheDir: join(dir, 'agent', 'cache'),
      stateDir: join(dir, 'agent', 'state'),
      podman: { socketPath: pm.socketPath },
      // the link goes through the recorder
      hub: { url: relay.url, credentialFile },
    }, join(dir, 'agent.yaml'));
    agentLog = join(dir, 'agent.log');
    node = await startNodeAgent(config, pino({ level: 'debug' }, pino.destination({ dest: agentLog, sync: true })), { nvidiaSmi: join(PACKAGE_ROOT, 'scripts', 'fake-nvidia-smi'), telemetryIntervalMs: 1000 });
    await until('the node agent connected', () => (hub.app.hub.gateway.connectedNodes().includes(OLD) ? true : undefined), 20_000);
  }, 600_000);
  afterAll(async () => {
    await node?.stop();
    await pm?.stop();
    await relay?.close();
    await hub?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('placement re-encrypts the repo secret, the tenant secret reaches only the container, bad input keeps the last good value, a move cuts the old node off', async () => {
    // 1. placement: the commit re-encrypts db-password for gpu-01 (and only it among nodes)
    const created = await hub.call('POST', '/api/v1/workspaces', { tenant: 'acme', body: { tenant: 'acme', template: 'sec', gpus: { count: 0 }, name: WS } });
    expect([created.status, created.json.node]).toEqual([201, OLD]);
    const message = gitSync(['--git-dir', hub.repoDir, 'log', '-1', '--format=%B', 'main'], hub.repoDir).stdout;
    expect(message).toContain(`re-encrypted repo secrets for this placement (+ node added, - node dropped):\n  secrets/db-password.age: +${OLD}`);
    const v1 = showAtTip(hub.repoDir, 'secrets/db-password.age')!;
    expect(ageOpens(key1.file, v1)).toEqual({ ok: true, out: DB_PASSWORD });
    expect(ageOpens(join(dir, 'node2.key'), v1).ok).toBe(false);
    expect(showAtTip(hub.repoDir, 'secrets/db-password.yaml')).toContain(`node: ${OLD}`);

    // 2. the tenant sets its secret; another tenant cannot; the container gets both values
    expect((await hub.call('PUT', `/api/v1/workspaces/${WS}/secrets/api-key`, { tenant: 'globex', body: { value: 'x' } })).status).toBe(404);
    expect((await hub.call('PUT', `/api/v1/workspaces/${WS}/secrets/api-key`, { tenant: 'acme', body: { value: API_V1 } })).status).toBe(201);
    await until('container running', async () => ((await managedContainers(pm, OLD)).lines.includes(`${CONTAINER} running`) ? true : undefined), 90_000);
    expect(apiKeyInside()).toBe(API_V1);
    expect(inContainer('cat /run/secrets/db')).toBe(DB_PASSWORD);
    const id1 = (await managedContainers(pm, OLD)).ids[CONTAINER];

    // 3. a new value recreates the container that uses it
    expect((await hub.call('PUT', `/api/v1/workspaces/${WS}/secrets/api-key`, { tenant: 'acme', body: { value: API_V2 } })).status).toBe(200);
    const id2 = await until('container recreated', async () => {
      const c = await managedContainers(pm, OLD);
      return c.lines.includes(`${CONTAINER} running`) && c.ids[CONTAINER] !== id1 ? c.ids[CONTAINER] : undefined;
    });
    expect(apiKeyInside()).toBe(API_V2);
    expect(node!.hubSecrets.versions()).toEqual({ [WS]: { 'api-key': 2 } });

    // 4. a damaged stored value (version 3): the hub names it, the node keeps version 2, the container stays
    await hub.store.sql.run("UPDATE workspace_secrets SET version = 3, ciphertext = '-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n' WHERE workspace = ? AND name = 'api-key'", [WS]);
    await hub.app.hub.secrets!.delivery.reconcile(true);
    await until('the agent names the problem', () => node!.hubSecrets.problems().get(`${WS}/api-key`));
    expect(node!.hubSecrets.problems().get(`${WS}/api-key`)).toBe(`workspace secret ${WS}/api-key: secret api-key (version 3) is damaged in the hub's store: set it again; the node keeps the value it has; the last good value stays in use`);
    expect(hubLog.join('\n')).toContain(`secret ${WS}/api-key (version 3) in the hub's store cannot be decrypted with the hub's age identity`);
    await node!.agent.syncNow('test');
    expect((await managedContainers(pm, OLD)).ids[CONTAINER]).toBe(id2);
    expect(apiKeyInside()).toBe(API_V2);
    expect((await hub.store.auditLog()).some((a) => a.action === 'workspace.secret.unreadable' && a.target === `${WS}/api-key`)).toBe(true);

    // 5. the move: gpu-02 comes online; an admin drains gpu-01 and unplaces the workspace; the hub places it on gpu-02
    await hub.connect(NEW, { handlers: { secrets: (b) => void toNew.push(b) } });
    const framesBeforeMove = relay.frames.length;
    const clone = join(dir, 'admin');
    gitSync(['clone', '--quiet', hub.repoDir, clone], dir);
    const nodeFile = join(clone, 'nodes', `${OLD}.yaml`);
    writeFileSync(nodeFile, `${readFileSync(nodeFile, 'utf8')}  drain: true\n`);
    const wsFile = join(clone, 'workspaces', 'acme', `${WS}.yaml`);
    writeFileSync(wsFile, readFileSync(wsFile, 'utf8').replace(/^ {2}node: .*\n/m, ''));
    gitSync(['commit', '--quiet', '-am', `move ${WS} off ${OLD}`], clone);
    gitSync(['push', '--quiet', 'origin', 'HEAD:main'], clone);
    const moved = await until('placed on gpu-02', async () => ((await hub.call('GET', `/api/v1/workspaces/${WS}`)).json.node === NEW ? true : undefined));
    expect(moved).toBe(true);
    const moveMessage = gitSync(['--git-dir', hub.repoDir, 'log', '-1', '--format=%B', 'main'], hub.repoDir).stdout;
    expect(moveMessage).toContain(`secrets/db-password.age: +${NEW} -${OLD}`);
    const v2 = showAtTip(hub.repoDir, 'secrets/db-password.age')!;
    expect(ageOpens(join(dir, 'node2.key'), v2)).toEqual({ ok: true, out: DB_PASSWORD });
    const refused = spawnSync('age', ['-d', '-i', key1.file], { input: v2, encoding: 'utf8' });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/no identity matched any of the recipients/);

    // the tenant sets a new value after the move: only gpu-02 gets it
    expect((await hub.call('PUT', `/api/v1/workspaces/${WS}/secrets/api-key`, { tenant: 'acme', body: { value: API_V3 } })).status).toBe(200);
    await until('gpu-02 got version 4', () => (toNew.some((b) => b.update?.secrets.some((s) => s.version === 4)) ? true : undefined));
    await until('gpu-01 dropped it', () => (Object.keys(node!.hubSecrets.versions()).length === 0 ? true : undefined));
    await until('gpu-01 pruned the container', async () => ((await managedContainers(pm, OLD)).lines.length === 0 ? true : undefined));
    const afterMove = relay.frames.slice(framesBeforeMove).filter((f) => f.dir === 'to-agent' && f.text.includes('"type":"secrets"')).map((f) => JSON.parse(f.text).body);
    expect(afterMove.length).toBeGreaterThan(0);
    for (const b of afterMove) expect([b.workspaces, b.update]).toEqual([[], undefined]);

    // 6. the plaintexts appear nowhere but inside the container
    const secretFrames = relay.frames.filter((f) => f.text.includes('"type":"secrets"'));
    expect(secretFrames.map((f) => JSON.parse(f.text).body.node).every((n: string) => n === OLD)).toBe(true);
    expect(secretFrames.some((f) => f.text.includes('BEGIN AGE ENCRYPTED FILE'))).toBe(true);
    const haystacks: Array<[string, string]> = [
      ['hub log', hubLog.join('\n')],
      ['frames', relay.frames.map((f) => f.text).join('\n')],
      ['agent log', readFileSync(agentLog, 'utf8')],
      ['hub status', JSON.stringify(hub.store.db.prepare('SELECT * FROM node_status').all()) + JSON.stringify(hub.store.db.prepare('SELECT * FROM status_events').all())],
      ['audit', JSON.stringify(hub.store.db.prepare('SELECT * FROM audit_log').all())],
      ['podman inspect', pm.podman(['inspect', ...pm.podman(['ps', '-aq']).stdout.split('\n').filter((l) => l !== '')], { allowFail: true }).stdout],
    ];
    hub.store.db.pragma('wal_checkpoint(TRUNCATE)');
    const files = (root: string): string[] => readdirSync(root, { recursive: true, withFileTypes: false }).map((f) => join(root, String(f))).filter((f) => statSync(f).isFile());
    for (const f of [...files(join(dir, 'agent', 'state')), ...readdirSync(hub.dir).filter((f) => f.startsWith('hub.db')).map((f) => join(hub.dir, f))]) haystacks.push([f, readFileSync(f).toString('latin1')]);
    for (const [where, text] of haystacks) for (const p of PLAINTEXTS) expect(text.includes(p), `${p} in ${where}`).toBe(false);
    // the git history holds only ciphertext
    const history = gitSync(['--git-dir', hub.repoDir, 'log', '-p', '--all'], hub.repoDir).stdout;
    for (const p of PLAINTEXTS) expect(history.includes(p)).toBe(false);
    mkdirSync(join(dir, 'done'), { recursive: true });
  }, 600_000);
});

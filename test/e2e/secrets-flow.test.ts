/**
 * Secrets end to end through the production path: an admin runs `foundry secret encrypt` on a clone of
 * the hub's hosted repo, pushes (validated by the pre-receive hook), the hub tells the node agent
 * (`startNodeAgent`, as `foundry agent run` starts it, with its hub link) to sync, the agent decrypts with
 * its own key and the container reads the values (busybox cat and env). Then the plaintext is searched
 * for in the git history (clone and hosted repo), the hub's data dir (SQLite database and WAL), the
 * agent's state (status.json, last-good.json, the outbox) and cache, every log line, every WebSocket
 * frame sent in this process, and `podman inspect` of every container: it appears only inside the
 * container (an env secret also in its own Config.Env on Podman < 5.3, see docs/secrets.md).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { describeIf } from '../support/requires.js';
import { PODMAN_HOW, podmanAvailable, startPrivatePodman, TEST_IMAGE, type PrivatePodman } from '../support/podman.js';
import { PACKAGE_ROOT } from '../../common/paths.js';
import { resolveConfig } from '../../agent/config/load-config.js';
import { startNodeAgent, type NodeAgent } from '../../agent/node-agent.js';
import { loadOrCreateNodeIdentity } from '../../agent/secrets/node-identity.js';
import { encryptSecret } from '../../cli/secret-files.js';
import { fleetFiles, gitSync, writeFiles } from '../workspaces/git-fixture.js';
import { startWsHub, type WsHub } from '../workspaces/hub-fixture.js';

const NODE = 'gpu-01';
const FILE_VALUE = 'e2e-file-Qw73-unlikely-anywhere';
const ENV_VALUE = 'e2e-env-Zt41-unlikely-anywhere';
const execFileAsync = promisify(execFile);
const built = existsSync(join(PACKAGE_ROOT, 'dist', 'hub', 'git', 'pre-receive-hook.js'));

function filesContaining(dir: string, needle: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && statSync(p).size < 256 * 1024 * 1024 && readFileSync(p).includes(needle)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

describeIf(podmanAvailable() && built, 'podman', PODMAN_HOW)('secrets end to end: encrypt → push → hub → agent → container', () => {
  let hub: WsHub;
  let pm: PrivatePodman;
  let node: NodeAgent | undefined;
  let dir: string;
  const logs: string[] = [];
  const frames: string[] = [];
  const send = WebSocket.prototype.send;

  beforeAll(async () => {
    // every frame sent in this process, by the agent's link and by the hub's gateway
    WebSocket.prototype.send = function (this: WebSocket, data: unknown, ...rest: unknown[]) {
      frames.push(Buffer.isBuffer(data) ? data.toString() : String(data));
      return (send as (...a: unknown[]) => void).call(this, data, ...rest);
    } as typeof send;
    dir = mkdtempSync(join(tmpdir(), 'foundry-e2e-secrets-'));
    const { recipient } = await loadOrCreateNodeIdentity(join(dir, 'state'));
    const files = fleetFiles({ nodes: 1, gpus: 0 });
    files['profiles/e2e-node.yaml'] = 'apiVersion: foundry.cloud/v1\nkind: NodeProfile\nmetadata:\n  name: e2e-node\nspec:\n  description: a node without the exporter\n  hostsWorkspaces: true\n';
    files[`nodes/${NODE}.yaml`] = `apiVersion: foundry.cloud/v1\nkind: Node\nmetadata:\n  name: ${NODE}\nspec:\n  profile: e2e-node\n  ageRecipient: ${recipient}\n`;
    files['templates/app.yaml'] = `apiVersion: foundry.cloud/v1\nkind: WorkspaceTemplate\nmetadata:\n  name: app\nspec:\n  containers:\n    - name: main\n      image: ${TEST_IMAGE}\n      pullPolicy: Never\n      command: [sh, -c, 'echo "file=$(cat /run/secrets/db)"; echo "env=$TOKEN"; sleep 600']\n      secrets:\n        - { name: db-password, file: /run/secrets/db }\n        - { name: api-token, env: TOKEN }\n`;
    hub = await startWsHub(files);
    pm = await startPrivatePodman();
    const credentialFile = join(dir, 'credential');
    writeFileSync(credentialFile, `${(await hub.store.issueNodeCredential(NODE))}\n`, { mode: 0o600 });
    const config = resolveConfig({ node: NODE, repo: { url: `${hub.url}/git/infra.git`, branch: 'main' }, cacheDir: join(dir, 'cache'), stateDir: join(dir, 'state'), podman: { socketPath: pm.socketPath }, hub: { url: hub.url, credentialFile } }, join(dir, 'agent.yaml'));
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs.push(chunk.toString());
        cb();
      },
    });
    node = await startNodeAgent(config, pino({ level: 'debug' }, sink), { nvidiaSmi: join(PACKAGE_ROOT, 'scripts', 'fake-nvidia-smi'), telemetryIntervalMs: 500 });
    const start = Date.now();
    while (!hub.app.hub.gateway.connectedNodes().includes(NODE)) {
      if (Date.now() - start > 20_000) throw new Error('the node agent did not connect');
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 600_000);
  afterAll(async () => {
    WebSocket.prototype.send = send;
    await node?.stop();
    await pm?.stop();
    await hub?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('the container reads the values; they are nowhere else', async () => {
    // the agent's hello (which carries its key) may still be on its way when the connection is up
    await expect.poll(async () => (await hub.store.nodes()).find((n) => n.name === NODE)?.ageRecipient ?? '', { timeout: 30_000 }).toMatch(/^age1/);
    const clone = join(dir, 'admin');
    gitSync(['clone', '--quiet', hub.repoDir, clone], dir);
    writeFiles(clone, { 'workspaces/acme/acme-sec.yaml': `apiVersion: foundry.cloud/v1\nkind: Workspace\nmetadata:\n  name: acme-sec\nspec:\n  tenant: acme\n  template: app\n  node: ${NODE}\n` });
    await encryptSecret(clone, 'db-password', Buffer.from(FILE_VALUE));
    await encryptSecret(clone, 'api-token', Buffer.from(ENV_VALUE));
    gitSync(['add', '-A'], clone);
    gitSync(['-c', 'user.name=admin', '-c', 'user.email=admin@example.eu', 'commit', '--quiet', '-m', 'workspace acme-sec with its secrets'], clone);
    // async: the hub answering the push runs in this process
    const push = await execFileAsync('git', ['-c', `http.extraHeader=Authorization: Bearer ${hub.admin}`, 'push', '--quiet', `${hub.url}/git/infra.git`, 'HEAD:main'], { cwd: clone });
    expect(push.stderr).toBe('');

    const end = Date.now() + 60_000;
    let out = '';
    while (!out.includes(`env=${ENV_VALUE}`)) {
      if (Date.now() > end) throw new Error(`the container did not print its secrets: ${out} ${logs.join('').slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 250));
      out = pm.podman(['logs', 'fc-ws-acme-sec-main'], { allowFail: true }).stdout;
    }
    expect(out).toContain(`file=${FILE_VALUE}\nenv=${ENV_VALUE}\n`);
    // the run that created the container writes status.json when it ends
    const phase = (): string | undefined => (JSON.parse(readFileSync(join(dir, 'state', 'status.json'), 'utf8')) as { resources: { id: string; phase: string }[] }).resources.find((r) => r.id === 'ws.acme-sec.main')?.phase;
    while (phase() !== 'Ready') {
      if (Date.now() > end + 30_000) throw new Error(`status.json never showed ws.acme-sec.main Ready: ${phase()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await new Promise((r) => setTimeout(r, 1000)); // telemetry, status and hub writes of this run

    const inspect = JSON.parse(pm.podman(['inspect', ...pm.podman(['ps', '-aq']).stdout.trim().split('\n')]).stdout) as { Config: { Env: string[] } }[];
    for (const value of [FILE_VALUE, ENV_VALUE]) {
      expect(gitSync(['log', '-p', '--all'], clone).stdout).not.toContain(value);
      expect(gitSync(['--git-dir', hub.repoDir, 'log', '-p', '--all'], dir).stdout).not.toContain(value);
      expect(filesContaining(hub.dir, value)).toEqual([]);
      expect(filesContaining(join(dir, 'state'), value)).toEqual([]);
      expect(filesContaining(join(dir, 'cache'), value)).toEqual([]);
      expect(filesContaining(clone, value)).toEqual([]);
      expect(logs.join('')).not.toContain(value);
      expect(frames.join('\n')).not.toContain(value);
      expect(JSON.stringify(inspect.map((c) => ({ ...c, Config: { ...c.Config, Env: [] } })))).not.toContain(value);
    }
    expect(JSON.stringify(inspect)).not.toContain(FILE_VALUE);
    expect(frames.some((f) => f.includes('"type":"hello"') && f.includes('"ageRecipient":"age1'))).toBe(true);
    expect(existsSync(join(dir, 'state', 'last-good.json'))).toBe(true);
  });
});

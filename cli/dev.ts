/**
 * `foundry dev` (what `npm start` runs): the hub and a local agent on one machine with the embedded
 * defaults, like a k3s server that is also an agent. SQLite and the hosted infra repo live in
 * .foundry/ (seeded once from fixtures/example-infra plus nodes/local.yaml for this machine); the local
 * agent gets its credential once and reconciles from the hub's repo. Logs go to .foundry/logs/.
 */
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { Command } from 'commander';
import { pino } from 'pino';
import { EXAMPLE_INFRA_DIR } from '../common/paths.js';
import { FoundryError } from '../common/errors.js';
import type { RunningHub } from '../hub/server.js';
import { resolveConfig } from '../agent/config/load-config.js';
import type { NodeAgent } from '../agent/node-agent.js';
import type { AgentStatus } from '../agent/reconcile/status.js';

/** The local node's name in the infra repo. */
export const LOCAL_NODE = 'local';

interface DevFlags {
  dataDir: string;
  port: string;
  host: string;
  podmanSocket?: string;
}

/** The dashboard user `npm start` creates on its first start. */
export const DEV_ADMIN_USER = 'admin';

/** The profile of the local node: what `npm start` seeds as profiles/dev-node.yaml. */
export const DEV_PROFILE = 'dev-node';

/**
 * profiles/dev-node.yaml: a gpu-node without the built-in node-exporter container. That container's
 * image comes from quay.io, so on a machine without a registry the local node would stay Stalled; the
 * agent reports host metrics itself, so nothing is lost for development. A repo profile, not a
 * built-in: an admin sees it in the infra repo and may add containers to it.
 */
export function devProfileYaml(): string {
  return [
    '# yaml-language-server: $schema=../../schemas/node-profile.schema.json',
    '# The profile of the machine that runs `npm start` (foundry dev), added by it. Like the built-in',
    '# gpu-node, but without its node-exporter container: that image comes from quay.io, and `npm start`',
    '# must work on a machine without a registry (the agent reports host metrics itself). Containers added',
    '# here run on the local node; their images must be present locally or pullable.',
    'apiVersion: foundry.cloud/v1',
    'kind: NodeProfile',
    'metadata:',
    `  name: ${DEV_PROFILE}`,
    'spec:',
    '  description: The local development node of npm start. Hosts workspaces and reports GPUs; runs no profile containers.',
    '  hostsWorkspaces: true',
    '  reportsGpus: true',
    '  reportsStorage: false',
    '',
  ].join('\n');
}

/** The ingress's port with `npm start`: apps are http://<app>--<workspace>.apps.localhost:8088/. */
export const DEV_INGRESS_PORT = 8088;

/** services/ingress.yaml for one machine: nginx on the local node, on loopback, plain HTTP (replaces the example's svc-01 ingress). */
export function devIngressYaml(port = DEV_INGRESS_PORT): string {
  return [
    '# yaml-language-server: $schema=../../schemas/infra.schema.json',
    '# The ingress of `npm start` (foundry dev): the local agent runs nginx on loopback, so every app of a',
    `# running workspace is at http://<app>--<workspace>.apps.localhost:${port}/ (Chromium and curl resolve`,
    '# *.localhost to 127.0.0.1), each request authorised by the hub (docs/ingress.md).',
    'apiVersion: foundry.cloud/v1',
    'kind: Service',
    'metadata:',
    '  name: ingress',
    'spec:',
    '  description: nginx in front of the workspace apps of this machine.',
    '  placement:',
    `    node: ${LOCAL_NODE}`,
    '  ingress:',
    `    listen: 127.0.0.1:${port}`,
    '',
  ].join('\n');
}

/** nodes/local.yaml: this machine as a dev-node (it hosts workspaces; GPUs are reported live by the agent), with the local agent's age key when known. */
export function localNodeYaml(host: string, ageRecipient?: string): string {
  const label = host.toLowerCase().replace(/[^a-z0-9.-]/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '').slice(0, 63) || 'localhost';
  return [
    '# yaml-language-server: $schema=../../schemas/infra.schema.json',
    '# This machine, added by `npm start` (foundry dev): the hub and its local agent run here.',
    'apiVersion: foundry.cloud/v1',
    'kind: Node',
    'metadata:',
    `  name: ${LOCAL_NODE}`,
    'spec:',
    `  profile: ${DEV_PROFILE}`,
    ...(ageRecipient === undefined ? [] : [`  ageRecipient: ${ageRecipient}`]),
    '  labels:',
    `    hostname: ${label}`,
    '    role: dev',
    '',
  ].join('\n');
}

/** The dashboard's first user: on a hub with no user yet, an admin with a one-time password (shown once by the caller). */
async function firstDashboardUser(hub: RunningHub): Promise<{ name: string; password: string } | undefined> {
  const [{ createUser, listUsers }, { randomPassword }] = await Promise.all([import('../hub/auth/users.js'), import('../hub/auth/passwords.js')]);
  if ((await listUsers(hub.store.users)).length > 0) return undefined;
  const password = randomPassword();
  await createUser(hub.store.users, { name: DEV_ADMIN_USER, role: 'admin' }, password, new Date());
  await hub.store.audit('foundry-dev', 'user.create', DEV_ADMIN_USER, { role: 'admin' });
  return { name: DEV_ADMIN_USER, password };
}

/** How to sign in to the dashboard: the first user's one-time password once, afterwards how to add a user. */
export function signInLines(first: { name: string; password: string } | undefined, dataDir: string): string[] {
  const add = `node bin/foundry.js hub user add NAME --role admin --data-dir ${join(dataDir, 'hub')}`;
  if (first !== undefined) {
    return [
      `  sign in:    user ${first.name}, one-time password (shown once): ${first.password}`,
      '              at the first sign-in you set a new password and an authenticator app (TOTP)',
    ];
  }
  return [`  sign in:    with your dashboard user (the first, ${DEV_ADMIN_USER}, got its one-time password at the first start); another: ${add}`];
}

/** Starts a private Podman API service when Podman is installed but no socket answers; undefined otherwise. */
function ensurePodman(dataDir: string, requested: string | undefined): { socket: string; child: ChildProcess | undefined; note: string } {
  if (requested !== undefined) return { socket: requested, child: undefined, note: `podman socket ${requested}` };
  if (existsSync('/run/podman/podman.sock')) return { socket: '/run/podman/podman.sock', child: undefined, note: 'podman socket /run/podman/podman.sock' };
  if (spawnSync('podman', ['--version'], { stdio: 'ignore' }).status !== 0) {
    return { socket: '/run/podman/podman.sock', child: undefined, note: 'podman is not installed: the local node will show as degraded (install podman and restart to run containers)' };
  }
  const socket = join(dataDir, 'podman.sock');
  rmSync(socket, { force: true });
  const child = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], { stdio: 'ignore' });
  child.unref();
  return { socket, child, note: `podman API service started on ${socket}` };
}

/** The local agent's credential: kept in .foundry/agent/credential (0600), issued by the hub once. */
async function localCredential(hub: RunningHub, agentDir: string): Promise<string> {
  const file = join(agentDir, 'credential');
  if (existsSync(file)) {
    const existing = readFileSync(file, 'utf8').trim();
    if ((await hub.store.authenticateNode(existing)).ok) return file;
  }
  mkdirSync(agentDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, `${await hub.store.issueNodeCredential(LOCAL_NODE, 'foundry-dev')}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/**
 * A resource's error without what changes on every retry ("create failed: " on the attempt, "(backing
 * off: retry N at T)" while waiting), so that an unchanged error gives an unchanged line.
 */
function stableMessage(message: string): string {
  return message.replace(/^(create|recreate|start|stop|remove) failed: /, '').replace(/ \(backing off: retry \d+ at [^)]*\)$/, '');
}

/** One line for the terminal: ready or not, why (a revision-level refusal says what to do), and the first stalled resource. Printed only when it changes. */
export function readyLine(status: AgentStatus): string {
  const ready = status.conditions.find((c) => c.type === 'Ready');
  const stalled = status.resources.filter((r) => r.phase === 'Stalled');
  const revisionLevel = ready?.status === 'False' && ready.reason !== 'ProgressingWithRetry' && ready.message !== '';
  const head = `agent ${LOCAL_NODE}: ${ready?.status === 'True' ? 'ready' : 'not ready'} at ${status.observedRevision?.slice(0, 12) ?? '-'} (${ready?.reason ?? '?'}${revisionLevel ? `: ${ready.message}` : ''})`;
  return stalled.length === 0 ? head : `${head}; ${stalled.length} stalled, e.g. ${stalled[0]?.id}: ${stableMessage(stalled[0]?.message ?? '')}`;
}

async function runDev(flags: DevFlags): Promise<void> {
  const dataDir = resolve(flags.dataDir);
  const port = Number.parseInt(flags.port, 10);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new FoundryError('CLI_USAGE', `invalid port ${flags.port}`);
  const logDir = join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  // Loaded here rather than at the top, so that `foundry agent run` (same binary) never loads the hub.
  const [{ startHub }, { startNodeAgent }] = await Promise.all([import('../hub/server.js'), import('../agent/node-agent.js')]);

  // Seed the hosted repo once: the example infra plus this machine's node file.
  const seed = mkdtempSync(join(tmpdir(), 'foundry-dev-seed-'));
  cpSync(EXAMPLE_INFRA_DIR, seed, { recursive: true });
  // The local agent's key exists before the repo is seeded, so secrets can be encrypted to this node.
  const { loadOrCreateNodeIdentity } = await import('../agent/secrets/node-identity.js');
  const nodeKey = await loadOrCreateNodeIdentity(join(dataDir, 'agent', 'state'));
  writeFileSync(join(seed, 'nodes', `${LOCAL_NODE}.yaml`), localNodeYaml(hostname(), nodeKey.recipient));
  mkdirSync(join(seed, 'profiles'), { recursive: true });
  writeFileSync(join(seed, 'profiles', `${DEV_PROFILE}.yaml`), devProfileYaml());
  writeFileSync(join(seed, 'services', 'ingress.yaml'), devIngressYaml());
  let hub: RunningHub;
  try {
    hub = await startHub({ dataDir: join(dataDir, 'hub'), port, host: flags.host, seedFrom: seed, appsUrl: `http://apps.localhost:${DEV_INGRESS_PORT}`, logger: { level: 'info', file: join(logDir, 'hub.log') } });
  } finally {
    rmSync(seed, { recursive: true, force: true });
  }

  const firstAdmin = (await hub.store.adminTokenCount()) === 0 ? await hub.store.createAdminToken('dev-admin', 'foundry-dev') : undefined;
  const firstUser = await firstDashboardUser(hub);
  const agentDir = join(dataDir, 'agent');
  const credentialFile = await localCredential(hub, agentDir);
  const podman = ensurePodman(dataDir, flags.podmanSocket);
  const config = resolveConfig(
    {
      node: LOCAL_NODE,
      repo: { url: `${hub.url}/git/infra.git`, branch: 'main' },
      cacheDir: join(agentDir, 'cache'),
      stateDir: join(agentDir, 'state'),
      podman: { socketPath: podman.socket },
      hub: { url: hub.url, credentialFile },
    },
    join(agentDir, '(npm start)'),
  );
  const logger = pino({ level: 'info', base: { node: LOCAL_NODE } }, pino.destination({ dest: join(logDir, 'agent.log'), sync: false }));
  let lastLine = '';
  const agent: NodeAgent = await startNodeAgent(config, logger);
  const printStatus = (status: AgentStatus): void => {
    const line = readyLine(status);
    if (line !== lastLine) process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
    lastLine = line;
  };
  const statusTimer = setInterval(() => {
    try {
      printStatus(JSON.parse(readFileSync(join(config.stateDir, 'status.json'), 'utf8')) as AgentStatus);
    } catch {
      // not written yet
    }
  }, 1000);

  const out = [
    '',
    `FoundryCloud is running (hub and a local agent). Data: ${dataDir}`,
    `  hub:        ${hub.url}   (health ${hub.url}/healthz, metrics ${hub.url}/metrics with the admin token)`,
    `  dashboard:  ${hub.url}/ui/`,
    `  apps:       http://<app>--<workspace>.apps.localhost:${DEV_INGRESS_PORT}/  (nginx run by the local agent, services/ingress.yaml)`,
    ...signInLines(firstUser, dataDir),
    `  infra repo: ${hub.url}/git/infra.git  (seeded from fixtures/example-infra + nodes/${LOCAL_NODE}.yaml)`,
    firstAdmin !== undefined
      ? `  admin token (shown once, stored hashed): ${firstAdmin}`
      : '  admin token: printed at the first start; create another with: node bin/foundry.js hub admin-token create --data-dir .foundry/hub',
    '',
    '  clone and push the infra repo (the token goes in a header, never in the URL):',
    "    export FOUNDRY_TOKEN=<admin token>",
    `    git -c http.extraHeader="Authorization: Bearer $FOUNDRY_TOKEN" clone ${hub.url}/git/infra.git`,
    '    (in the clone: git config http.extraHeader "Authorization: Bearer $FOUNDRY_TOKEN"; edit, commit, git push)',
    '',
    `  ${podman.note}`,
    `  logs: ${logDir}/hub.log and agent.log (JSON lines); agent status: ${config.stateDir}/status.json`,
    '  stop with Ctrl-C',
    '',
  ];
  process.stdout.write(out.join('\n'));

  await new Promise<void>((resolveStop) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stdout.write('\nstopping: agent, then hub (nothing acknowledged is lost)\n');
      clearInterval(statusTimer);
      // npm start owns the whole machine's setup: its ingress stops with it (an enrolled node's ingress outlives its agent).
      void (agent.ingress?.stopAll() ?? Promise.resolve())
        .then(() => agent.stop())
        .then(() => hub.close())
        .finally(() => {
          podman.child?.kill('SIGTERM');
          resolveStop();
        });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** Registers the dev sub-command. */
export function registerDev(program: Command): void {
  program
    .command('dev')
    .description('run the hub and a local agent together with the embedded defaults (what npm start runs)')
    .option('--data-dir <dir>', 'where the hub store, hosted repo, agent state and logs live', '.foundry')
    .option('--port <port>', 'hub port', process.env.PORT ?? '8080')
    .option('--host <host>', 'hub listen address', '127.0.0.1')
    .option('--podman-socket <path>', 'Podman API socket (default: /run/podman/podman.sock, else a private podman service)')
    .action(runDev);
}

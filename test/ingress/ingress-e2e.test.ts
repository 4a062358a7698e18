/**
 * The data path end to end: a real hub (startHub, as `foundry hub start`), two node agents as `foundry
 * agent run` starts them on a real Podman, and the ingress Service declared in the infra repo, whose
 * node's agent runs real nginx with the route table the hub sends. Apps: busybox httpd and the Node.js
 * test app (WebSocket echo, streams, uploads) of the local node image. The ingress runs with `auth: off`
 * here (the hub's /ingress/authz is the appauth side; test/ingress/nginx-authz.test.ts covers the
 * authorisation path against a contract server).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { request } from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { resolveConfig } from '../../agent/config/load-config.js';
import { startNodeAgent, type NodeAgent } from '../../agent/node-agent.js';
import { workDirFor } from '../../agent/ingress/nginx-runner.js';
import { startHub, type RunningHub } from '../../hub/server.js';
import { managedContainers } from '../agent/agent-harness.js';
import { createNetns, netnsAvailable } from '../support/netns.js';
import { importNodeAppImage, NODE_APP_IMAGE } from '../support/node-image.js';
import { PODMAN_HOW, podmanAvailable, startPrivatePodman, TEST_IMAGE, type PrivatePodman } from '../support/podman.js';
import { describeIf, onPath } from '../support/requires.js';
import { writeFiles, type RepoFiles } from '../workspaces/git-fixture.js';

const execFileAsync = promisify(execFile);
import { freePort, get, open, raw } from './http-client.js';

const doc = (kind: string, name: string, spec: string): string => `apiVersion: foundry.cloud/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n${spec}`;
const LIVE = 'live--acme-alice.apps.localhost';
const WEB = 'web--acme-alice.apps.localhost';
const OTHER = 'live--globex-bob.apps.localhost';

function template(rev: string): string {
  return doc('WorkspaceTemplate', 'apps', [
    '  containers:',
    '    - name: web',
    `      image: ${TEST_IMAGE}`,
    '      pullPolicy: Never',
    '      command: [httpd, -f, -p, "8080", -h, /www]',
    '      ports: [{ containerPort: 8080, app: web }]',
    '    - name: live',
    `      image: ${NODE_APP_IMAGE}`,
    '      pullPolicy: Never',
    '      command: [/usr/bin/node, /app/ingress-app.mjs]',
    `      env: { APP_NAME: live, REV: "${rev}" }`,
    '      ports: [{ containerPort: 8080, app: live, api: true }]',
    '',
  ].join('\n'));
}

const workspace = (name: string, tenant: string, node: string): string => doc('Workspace', name, `  tenant: ${tenant}\n  template: apps\n  node: ${node}\n`);

describeIf(podmanAvailable() && onPath('nginx') && netnsAvailable(), 'podman, nginx and network namespaces', `${PODMAN_HOW}; apt-get install -y nginx iproute2`)('ingress end to end (real hub, agents on real Podman, nginx run by the ingress node\'s agent)', () => {
  let dir: string;
  let hub: RunningHub;
  let hubPort: number;
  let port: number;
  let pm: PrivatePodman;
  const agents = new Map<string, NodeAgent>();
  let admin: string;
  let files: RepoFiles;

  const startOurHub = async (): Promise<RunningHub> => startHub({ dataDir: join(dir, 'hub'), port: hubPort, seedFrom: join(dir, 'seed'), appsUrl: `http://apps.localhost:${port}`, repoPollMs: 500, ingressPollMs: 100, logger: false });
  const routesFile = (): string => join(dir, 'agent-gpu-01', 'state', 'ingress', 'ingress', 'routes.json');
  const upstreamOf = (host: string): string | undefined => {
    try {
      return (JSON.parse(readFileSync(routesFile(), 'utf8')) as { routes: Array<{ host: string; upstream: string }> }).routes.find((r) => r.host === host)?.upstream;
    } catch {
      return undefined;
    }
  };
  const until = async <T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 90_000): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const answers = (host: string, body: string) => async () => ((await get(port, host, '/').catch(() => undefined))?.body === body ? true : undefined);
  /** Commits `changes` to the hosted repo over HTTP as an admin (the push makes the hub tell the agents to sync). Async: the hub runs in this process. */
  const push = async (changes: RepoFiles, message: string): Promise<void> => {
    const work = mkdtempSync(join(tmpdir(), 'fc-ingress-push-'));
    // the token goes in the environment, never on a command line
    const env = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Bearer ${admin}`, GIT_AUTHOR_NAME: 'admin', GIT_AUTHOR_EMAIL: 'admin@x', GIT_COMMITTER_NAME: 'admin', GIT_COMMITTER_EMAIL: 'admin@x' };
    const git = (args: string[], cwd: string) => execFileAsync('git', args, { cwd, env });
    try {
      await git(['clone', '-q', `${hub.url}/git/infra.git`, work], tmpdir());
      writeFiles(work, changes);
      await git(['add', '-A'], work);
      await git(['commit', '-q', '-m', message], work);
      await git(['push', '-q', 'origin', 'HEAD:main'], work);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  };
  const startAgent = async (node: string): Promise<void> => {
    const base = join(dir, `agent-${node}`);
    mkdirSync(base, { recursive: true });
    const credentialFile = join(base, 'credential');
    writeFileSync(credentialFile, `${(await hub.store.issueNodeCredential(node))}\n`, { mode: 0o600 });
    const config = resolveConfig({ node, repo: { url: `${hub.url}/git/infra.git`, branch: 'main' }, cacheDir: join(base, 'cache'), stateDir: join(base, 'state'), podman: { socketPath: pm.socketPath }, hub: { url: hub.url, credentialFile } }, join(base, 'agent.yaml'));
    agents.set(node, await startNodeAgent(config, pino({ level: 'silent' }), { nvidiaSmi: '/nonexistent/nvidia-smi' }));
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fc-ingress-e2e-'));
    hubPort = await freePort();
    port = await freePort();
    files = {
      'cluster.yaml': doc('Cluster', 'main', '  pollInterval: 5s\n'),
      'tenants/acme.yaml': doc('Tenant', 'acme', '  displayName: ACME\n'),
      'tenants/globex.yaml': doc('Tenant', 'globex', '  displayName: Globex\n'),
      'pricing.yaml': doc('PriceList', 'default', '  currency: EUR\n  periods:\n    - effectiveFrom: "2026-01-01T00:00:00Z"\n      gpuHour:\n        NVIDIA H100 80GB HBM3: "2.49"\n'),
      'profiles/e2e.yaml': doc('NodeProfile', 'e2e', '  description: a node without the exporter (quay.io cannot be pulled here)\n  hostsWorkspaces: true\n  hostsServices: true\n'),
      'nodes/gpu-01.yaml': doc('Node', 'gpu-01', '  profile: e2e\n'),
      'nodes/gpu-02.yaml': doc('Node', 'gpu-02', '  profile: e2e\n  network: { internalAddress: 127.0.0.1 }\n'),
      'services/ingress.yaml': doc('Service', 'ingress', `  placement: { node: gpu-01 }\n  ingress: { listen: "127.0.0.1:${port}", auth: "off" }\n`),
      'templates/apps.yaml': template('1'),
      'workspaces/acme/alice.yaml': workspace('acme-alice', 'acme', 'gpu-01'),
      'workspaces/globex/bob.yaml': workspace('globex-bob', 'globex', 'gpu-01'),
    };
    writeFiles(join(dir, 'seed'), files);
    hub = await startOurHub();
    admin = (await hub.store.createAdminToken('ingress-e2e'));
    pm = await startPrivatePodman();
    importNodeAppImage(pm);
    await startAgent('gpu-01');
    await startAgent('gpu-02');
    await until('both apps routed', async () => ((await answers(WEB, 'foundry test page\n')()) && (await answers(LIVE, 'app live\n')()) && (await answers(OTHER, 'app live\n')())), 180_000);
  }, 1_500_000);

  afterAll(async () => {
    for (const a of agents.values()) {
      await a.ingress?.stopAll();
      await a.stop();
    }
    await hub?.close();
    await pm?.stop();
    if (dir !== undefined) {
      rmSync(workDirFor(join(dir, 'agent-gpu-01', 'state', 'ingress', 'ingress')), { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('routes every app of every running workspace by its stable host, and nothing else', async () => {
    expect(await get(port, WEB, '/')).toMatchObject({ status: 200, body: 'foundry test page\n' });
    expect(await get(port, LIVE, '/')).toMatchObject({ status: 200, body: 'app live\n' });
    const unknown = await get(port, 'nope--acme-alice.apps.localhost', '/');
    expect([unknown.status, unknown.body]).toEqual([404, 'not found\n']);
    // the upstream is the address and host port the agent reported: the node's internal address (127.0.0.1 by default)
    expect(upstreamOf(LIVE)).toMatch(/^127\.0\.0\.1:\d+$/);
    // no hand-edited config: what runs is what the agent generated from the hub's table
    const conf = readFileSync(join(dir, 'agent-gpu-01', 'state', 'ingress', 'ingress', 'nginx.conf'), 'utf8');
    expect(conf.startsWith('# Generated by the foundry agent')).toBe(true);
    expect(conf).toContain(`${LIVE} fc_app_`);
  });

  it('publishes workspace ports on the internal address only: another network namespace cannot reach them, while a port on all addresses is reachable (control)', async () => {
    const [, hostPort] = upstreamOf(LIVE)!.split(':');
    const control = createServer((_q, s) => s.end('control')).listen(0, '0.0.0.0');
    await new Promise((r) => control.once('listening', r));
    const controlPort = (control.address() as { port: number }).port;
    const ns = createNetns('ingr', 200 + Math.floor(Math.random() * 50), { delayMs: 0, lossPct: 0, rateKbit: 100_000 });
    try {
      // async: the control server answers from this process
      const curl = (p: string | number) =>
        execFileAsync('ip', [...ns.exec.slice(1), 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '3', `http://${ns.hostAddr}:${p}/`], { encoding: 'utf8', timeout: 15_000 }).then(
          (r) => ({ code: 0, out: r.stdout }),
          (err: { code?: number; stdout?: string }) => ({ code: err.code ?? -1, out: err.stdout ?? '' }),
        );
      expect(await curl(controlPort)).toEqual({ code: 0, out: '200' });
      const blocked = await curl(hostPort!);
      expect(blocked.out).toBe('000');
      expect(blocked.code).not.toBe(0);
    } finally {
      ns.remove();
      control.close();
    }
  });

  it('passes WebSocket upgrades and streams responses and server-sent events as they are produced', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { host: LIVE } });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const echo = new Promise<string>((r) => ws.once('message', (d: Buffer) => r(d.toString())));
    ws.send('round trip');
    expect(await echo).toBe('round trip');
    ws.close();
    // the last chunk is only produced after we asked for it: seeing the first chunk first proves nothing was buffered
    const stream = await open(port, LIVE, '/stream');
    expect(await stream.next()).toBe('first\n');
    const sse = await open(port, LIVE, '/sse');
    expect(sse.headers['content-type']).toBe('text/event-stream');
    expect(await sse.next()).toBe('event: first\ndata: 1\n\n');
    expect((await get(port, LIVE, '/release')).body).toBe('released 2\n');
    expect(await stream.rest()).toBe('last\n');
    expect(await sse.rest()).toBe('event: last\ndata: 2\n\n');
  });

  it('streams a 1 GiB upload to the app without holding it: nginx\'s memory stays flat and nothing is spooled to disk', async () => {
    const nginxRss = (): number => {
      let kb = 0;
      for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
        try {
          if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('nginx')) continue;
          kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
        } catch {
          /* gone */
        }
      }
      return kb * 1024;
    };
    const size = 1024 * 1024 * 1024;
    const chunk = Buffer.alloc(1024 * 1024, 7);
    let sent = 0;
    let peak = 0;
    const before = nginxRss();
    const body = new Readable({
      read() {
        if (sent >= size) return void this.push(null);
        sent += chunk.length;
        if (sent % (64 * chunk.length) === 0) peak = Math.max(peak, nginxRss());
        this.push(chunk);
      },
    });
    const reply = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/upload', method: 'POST', headers: { host: LIVE, 'content-length': String(size) } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      body.pipe(req);
    });
    expect(JSON.parse(reply)).toEqual({ bytes: size });
    // all nginx processes of this machine together (other helpers may run some): far less growth than the 1 GiB that went through
    expect(peak - before).toBeLessThan(64 * 1024 * 1024);
    const temp = readdirSync('/run/foundry-ingress').flatMap((h) => { try { return readdirSync(join('/run/foundry-ingress', h, 'tmp', 'body')); } catch { return []; } });
    expect(temp).toEqual([]);
  }, 180_000);

  it('refuses oversized headers and times out a slow client, while the other tenant\'s app keeps answering', async () => {
    const big = await get(port, LIVE, '/', { 'x-big': 'a'.repeat(20_000) });
    expect(big.status).toBe(400);
    const slow = raw(port, `GET / HTTP/1.1\r\nHost: ${LIVE}\r\nX-Slow: `, 30_000);
    expect(await get(port, OTHER, '/')).toMatchObject({ status: 200, body: 'app live\n' });
    const cut = await slow;
    expect(cut.closedByServer).toBe(true);
    expect(await get(port, OTHER, '/')).toMatchObject({ status: 200, body: 'app live\n' });
  }, 60_000);

  it('keeps the URL when the container is recreated on a new host port', async () => {
    const old = upstreamOf(LIVE)!;
    const { ids } = await managedContainers(pm, 'gpu-01');
    const oldId = ids['fc-ws-acme-alice-live'];
    await push({ 'templates/apps.yaml': template('2') }, 'apps: rev 2 (recreate)');
    await until('recreated', async () => ((await managedContainers(pm, 'gpu-01')).ids['fc-ws-acme-alice-live'] !== oldId ? true : undefined));
    await until('route follows the new port', () => (upstreamOf(LIVE) !== undefined && upstreamOf(LIVE) !== old ? true : undefined));
    await until('app answers at the same URL', answers(LIVE, 'app live\n'));
  }, 180_000);

  it('keeps the URL when the workspace moves to another node', async () => {
    await push({ 'workspaces/acme/alice.yaml': workspace('acme-alice', 'acme', 'gpu-02') }, 'move acme-alice to gpu-02');
    await until('running on gpu-02', async () => ((await managedContainers(pm, 'gpu-02')).lines.includes('fc-ws-acme-alice-live running') ? true : undefined), 180_000);
    await until('gone from gpu-01', async () => ((await managedContainers(pm, 'gpu-01')).lines.some((l) => l.startsWith('fc-ws-acme-alice-')) ? undefined : true));
    const { ids } = await managedContainers(pm, 'gpu-02');
    await until('app answers at the same URL', answers(LIVE, 'app live\n'));
    await until('web answers at the same URL', answers(WEB, 'foundry test page\n'));
    // served by the container on gpu-02: its host port is the route's
    const inspect = JSON.parse(pm.podman(['inspect', ids['fc-ws-acme-alice-live']!]).stdout) as Array<{ NetworkSettings: { Ports: Record<string, Array<{ HostIp: string; HostPort: string }>> } }>;
    const binding = inspect[0]!.NetworkSettings.Ports['8080/tcp']![0]!;
    expect(upstreamOf(LIVE)).toBe(`${binding.HostIp}:${binding.HostPort}`);
  }, 240_000);

  it('keeps open connections through a hub restart (the data path never runs through the hub) and routes after it', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { host: OTHER } });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const stream = await open(port, OTHER, '/stream');
    expect(await stream.next()).toBe('first\n');
    await hub.close();
    const echo = new Promise<string>((r) => ws.once('message', (d: Buffer) => r(d.toString())));
    ws.send('while the hub is down');
    expect(await echo).toBe('while the hub is down');
    expect(await get(port, WEB, '/')).toMatchObject({ status: 200, body: 'foundry test page\n' });
    hub = await startOurHub();
    const echo2 = new Promise<string>((r) => ws.once('message', (d: Buffer) => r(d.toString())));
    ws.send('after the restart');
    expect(await echo2).toBe('after the restart');
    expect((await get(port, OTHER, '/release')).body).toBe('released 1\n');
    expect(await stream.rest()).toBe('last\n');
    ws.close();
    // the agents reconnect and the restarted hub sends the table again: a change after the restart is routed
    await until('agents back', () => (hub.app.hub.gateway.connectedNodes().length === 2 ? true : undefined));
    await push({ 'workspaces/acme/carol.yaml': workspace('acme-carol', 'acme', 'gpu-02') }, 'new workspace after the restart');
    await until('new workspace routed', answers('live--acme-carol.apps.localhost', 'app live\n'), 180_000);
  }, 300_000);
});

#!/usr/bin/env node
// How fast a new or recreated app becomes routable (issue 18: "within 2 s of its agent reporting it").
// The real path, in one process: a workload node's agent link sends a status naming the container's new
// host port → the hub commits it → the hub's IngressSync (polling every 250 ms) computes the route table
// from Git plus that status → `ingress-routes` goes down the ingress node's agent link → IngressHost
// writes the nginx configuration and reloads the real nginx → a request to the app's stable host is
// answered by the new port. The clock starts when sendStatus is called and stops at the first request
// nginx answers from the new upstream (polled every 5 ms). Two local HTTP servers stand in for the
// container's port before and after a recreate (a container port is a DNAT rule in front of such a socket).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { median } from './stats.mjs';
import { freePort } from './free-port.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(root, 'dist', p));
const doc = (kind, name, spec) => `apiVersion: foundry.cloud/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n${spec}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));


/** GET http://127.0.0.1:port/ with Host `host`; resolves the body, or '' on any error. */
function get(port, host) {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host }, timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(res.statusCode === 200 ? body : ''));
    });
    req.on('error', () => resolve(''));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** A status body: container web of workspace `ws` published on 127.0.0.1:port. */
function status(ws, port) {
  return { conditions: [], resources: [{ id: `ws.${ws}.web`, kind: 'container', workspace: ws, conditions: [{ type: 'Ready', status: 'True', reason: 'UpToDate' }], ports: [{ containerPort: 8080, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: port }] }] };
}

/** The benchmark: returns rows for bench/run.mjs. */
export async function run({ quick = false } = {}) {
  if (spawnSync('nginx', ['-v']).status !== 0) throw new Error('nginx is not installed (apt-get install nginx)');
  const { buildApp } = await dist('hub/app.js');
  const { HubStore } = await dist('hub/store/hub-store.js');
  const { ensureHostedRepo, seedHostedRepo } = await dist('hub/git/hosted-repo.js');
  const { HubLink } = await dist('agent/link/hub-link.js');
  const { IngressHost } = await dist('agent/ingress/ingress-host.js');
  const { parseAppsUrl } = await dist('common/ingress/apps-url.js');

  const dir = mkdtempSync(join(tmpdir(), 'fb-ingress-route-'));
  const cleanup = [];
  try {
    const ingressPort = await freePort();
    const ws = 'acme-route';
    const host = `web--${ws}.apps.localhost`;
    // the container's port before and after each recreate
    const upstreams = [];
    for (const name of ['A', 'B']) {
      const srv = createServer((_req, res) => res.end(name));
      await new Promise((r) => srv.listen(0, '127.0.0.1', r));
      upstreams.push({ name, port: srv.address().port });
      cleanup.push(() => new Promise((r) => srv.close(r)));
    }
    const seed = join(dir, 'seed');
    const files = {
      'cluster.yaml': doc('Cluster', 'main', '  hubUrl: http://127.0.0.1:1\n'),
      'tenants/acme.yaml': doc('Tenant', 'acme', '  displayName: ACME\n'),
      'templates/web.yaml': doc('WorkspaceTemplate', 'web', '  encryption: none\n  containers:\n    - name: web\n      image: localhost/web:1\n      ports:\n        - { containerPort: 8080, app: web }\n'),
      'nodes/ing.yaml': doc('Node', 'ing', '  profile: svc\n'),
      'nodes/w1.yaml': doc('Node', 'w1', '  profile: svc\n  network:\n    internalAddress: 127.0.0.1\n'),
      'services/ingress.yaml': doc('Service', 'ingress', `  placement:\n    node: ing\n  ingress:\n    listen: 127.0.0.1:${ingressPort}\n    auth: "off"\n`),
      [`workspaces/acme/${ws}.yaml`]: doc('Workspace', ws, '  tenant: acme\n  template: web\n  node: w1\n  gpus:\n    count: 0\n'),
    };
    for (const [p, c] of Object.entries(files)) {
      mkdirSync(dirname(join(seed, p)), { recursive: true });
      writeFileSync(join(seed, p), c);
    }
    const repoDir = join(dir, 'infra.git');
    await ensureHostedRepo(repoDir);
    await seedHostedRepo(repoDir, seed);
    const store = new HubStore(join(dir, 'hub.db'));
    const app = await buildApp({ store, repoDir, dashboard: { pollMs: 0 }, ingress: { apps: parseAppsUrl(`http://apps.localhost:${ingressPort}`), hubPublicUrl: 'http://127.0.0.1:1' } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    cleanup.unshift(async () => {
      await app.close();
      await store.close();
    });
    const url = `http://127.0.0.1:${app.server.address().port}`;
    const silent = pino({ level: 'silent' });

    // the ingress node: its agent link and IngressHost running real nginx
    const ingress = new IngressHost({ stateDir: join(dir, 'ing'), hubUrl: url, logger: silent });
    cleanup.unshift(() => ingress.stopAll());
    const ingLink = new HubLink({ hubUrl: url, node: 'ing', credential: (await store.issueNodeCredential('ing')), stateDir: join(dir, 'ing') });
    ingLink.onCommand((cmd) => (cmd.name === 'ingress-routes' && cmd.ingress !== undefined ? ingress.apply(cmd.ingress) : undefined));
    ingLink.start();
    cleanup.unshift(() => ingLink.close());
    // the workload node: only its link (its status is what the agent reports after a recreate)
    const wLink = new HubLink({ hubUrl: url, node: 'w1', credential: (await store.issueNodeCredential('w1')), stateDir: join(dir, 'w1') }).start();
    cleanup.unshift(() => wLink.close());
    await Promise.all([new Promise((r) => ingLink.once('connected', r)), new Promise((r) => wLink.once('connected', r))]);

    /** Reports the app on `to` and times until nginx answers from it. */
    const routeTo = async (to) => {
      const t0 = performance.now();
      wLink.sendStatus(status(ws, to.port));
      for (;;) {
        if ((await get(ingressPort, host)) === to.name) return performance.now() - t0;
        if (performance.now() - t0 > 30_000) throw new Error(`${host} was not routed to ${to.name} within 30 s`);
        await sleep(5);
      }
    };
    const first = await routeTo(upstreams[0]);
    const n = quick ? 4 : 20;
    const times = [];
    for (let i = 1; i <= n; i++) times.push(await routeTo(upstreams[i % 2]));
    times.sort((a, b) => a - b);
    return {
      title: 'app routing after an agent report (hub → ingress agent → nginx)',
      rows: [
        { figure: 'new app: first status → routable through nginx (nginx started)', median: first, unit: 'ms', runs: 1 },
        { figure: 'recreated app (new host port): status → routable through nginx, median', median: median(times), unit: 'ms', runs: n, target: '< 2,000 ms', met: median(times) < 2000 },
        { figure: 'recreated app: status → routable, worst of the runs', median: times.at(-1), unit: 'ms', runs: n, target: '< 2,000 ms', met: times.at(-1) < 2000 },
      ],
      notes: ['routing: the hub polls the route table every 250 ms (IngressSync), so about half of that is waiting by design; then one WebSocket frame to the ingress agent and an nginx reload (HUP, new workers); requests polled every 5 ms'],
    };
  } finally {
    for (const c of cleanup) {
      try {
        await c();
      } catch {
        // best effort
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await run({ quick: process.argv.includes('--quick') });
  console.log(JSON.stringify(r, null, 2));
  process.exit(0);
}

#!/usr/bin/env node
// Desktop console benchmark on a real KVM guest (SeaBIOS, no OS): the same small RFB client
// (bench/rfb-client.mjs) connected directly to the guest's VNC listener and through the console tunnel
// (browser WebSocket → hub → agent's outbound WebSocket → VNC), side by side in one run:
// - input → screen update: ESC at SeaBIOS's "Press ESC for boot menu" until the boot menu's framebuffer
//   update arrives (the guest is reset through libvirt before each try, and the key is sent once the
//   guest's own text screen shows the prompt; tries alternate between the paths);
// - bandwidth: full-screen raw framebuffer updates back to back for a fixed time.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import WebSocket, { WebSocketServer, createWebSocketStream } from 'ws';
import * as OTPAuth from 'otpauth';
import { median } from './stats.mjs';
import { RfbClient } from './rfb-client.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(root, 'dist', p));
const URI = 'qemu:///system';
const ESC = 0xff1b;
/** A framebuffer update this large is new text lines (the boot menu), not the blinking cursor. */
const BIG_AREA = 500;

const virsh = (args) => spawnSync('virsh', ['-q', '-c', URI, ...args], { encoding: 'utf8' });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const doc = (kind, name, spec) => `apiVersion: foundry.cloud/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n${spec}`;

async function post(url, body, headers = {}) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json(), headers: r.headers };
}

/** Keeps asking for incremental updates and timestamps each one (area in pixels). */
function pump(client) {
  const state = { events: [], full: false, stopped: false, done: undefined };
  state.done = (async () => {
    while (!state.stopped) {
      client.request(!state.full);
      const area = await client.nextUpdate().catch(() => -1);
      if (area < 0) return;
      state.events.push({ t: performance.now(), area });
    }
  })();
  return state;
}

/** The guest's VGA text screen (80x25 cells of character and attribute at 0xb8000), read through QEMU's monitor. */
function screenText(domain, file) {
  virsh(['qemu-monitor-command', domain, '--hmp', `pmemsave 0xb8000 4000 "${file}"`]);
  const mem = readFileSync(file);
  let s = '';
  for (let i = 0; i < mem.length; i += 2) s += mem[i] >= 32 && mem[i] < 127 ? String.fromCharCode(mem[i]) : ' ';
  return s;
}

/** Waits until SeaBIOS shows its prompt (and so polls the keyboard), then for the screen to be quiet. */
async function promptShown(p, domain, file) {
  const deadline = performance.now() + 20_000;
  for (;;) {
    const text = screenText(domain, file);
    if (text.includes('Press ESC for boot menu') && !text.includes('Select boot device')) break;
    if (performance.now() > deadline) throw new Error('the guest did not show the boot menu prompt within 20 s');
    await sleep(50);
  }
  for (;;) {
    const lastBig = p.events.filter((e) => e.area >= BIG_AREA).at(-1)?.t ?? 0;
    if (performance.now() - lastBig > 300) return;
    await sleep(50);
  }
}

/** Reset the guest, wait for SeaBIOS's prompt to settle, press ESC, time the boot menu's update. */
async function roundTrip(client, p, domain, file) {
  if (virsh(['reset', domain]).status !== 0) throw new Error('virsh reset failed');
  await promptShown(p, domain, file);
  const from = p.events.length;
  const t0 = performance.now();
  client.key(ESC);
  const deadline = t0 + 5000;
  for (;;) {
    const hit = p.events.slice(from).find((e) => e.area >= BIG_AREA && e.t >= t0);
    if (hit !== undefined) return hit.t - t0;
    if (performance.now() > deadline) throw new Error(`no screen update within 5 s of the key press (updates since: ${p.events.slice(from).map((e) => e.area).join(',')}; before: ${p.events.slice(Math.max(0, from - 8), from).map((e) => e.area).join(',')})`);
    await sleep(1);
  }
}

/** Full-screen updates back to back for `ms`: MB/s. */
async function bandwidth(client, p, ms) {
  p.full = true;
  const b0 = client.bytes;
  const t0 = performance.now();
  await sleep(ms);
  const mb = (client.bytes - b0) / 1e6;
  const s = (performance.now() - t0) / 1000;
  p.full = false;
  return mb / s;
}

/**
 * The tunnel's own latency, without QEMU's display refresh in it: 8 bytes through browser ws → splice →
 * agent ws → TCP echo server and back, beside the same 8 bytes straight to the echo server (median of n).
 */
async function echoRow(n) {
  const { ConsoleTunnels } = await dist('agent/console/console-tunnel.js');
  const { spliceSockets } = await dist('hub/desktop/ws-splice.js');
  const echo = createServer((s) => {
    s.setNoDelay(true);
    s.pipe(s);
  });
  await new Promise((r) => echo.listen(0, '127.0.0.1', r));
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  let browserSide;
  let spliced;
  const ready = new Promise((r) => (spliced = r));
  wss.on('connection', (ws, req) => {
    if (req.headers['x-foundry-tunnel'] === undefined) browserSide = ws;
    else {
      void spliceSockets(browserSide, ws);
      spliced();
    }
  });
  const url = `http://127.0.0.1:${wss.address().port}`;
  const client = new WebSocket(`${url.replace('http', 'ws')}/browser`);
  await new Promise((r) => client.once('open', r));
  const tunnels = new ConsoleTunnels({ hubUrl: url, credential: 'bench', locate: async () => ({ host: '127.0.0.1', port: echo.address().port }), log: { debug() {}, info() {}, warn() {}, error() {} } });
  await tunnels.handle({ tunnel: 'benchbenchbenchbench', workspace: 'bench', protocol: 'vnc' });
  await ready;
  const viaTunnel = createWebSocketStream(client);
  const direct = connect({ host: '127.0.0.1', port: echo.address().port });
  direct.setNoDelay(true);
  const time = async (stream) => {
    const xs = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const got = new Promise((r) => stream.once('data', r));
      stream.write(Buffer.alloc(8, i));
      await got;
      xs.push(performance.now() - t);
    }
    return median(xs);
  };
  try {
    await time(viaTunnel);
    const tunnel = await time(viaTunnel);
    const straight = await time(direct);
    return { figure: '8 bytes there and back through the tunnel (TCP echo server instead of VNC)', median: tunnel, unit: 'ms', runs: n, peer: 'direct TCP', peerMedian: straight, ratio: `${(tunnel / straight).toFixed(2)}×` };
  } finally {
    tunnels.closeAll();
    client.terminate();
    direct.destroy();
    echo.close();
    await new Promise((r) => wss.close(r));
  }
}

/** The benchmark: returns rows for bench/run.mjs. */
export async function run({ quick = false } = {}) {
  if (virsh(['version']).status !== 0) throw new Error('libvirt not reachable at qemu:///system (run scripts/host-setup.sh)');
  const { buildApp } = await dist('hub/app.js');
  const { HubStore } = await dist('hub/store/hub-store.js');
  const { ensureHostedRepo, seedHostedRepo } = await dist('hub/git/hosted-repo.js');
  const { createUser } = await dist('hub/auth/users.js');
  const { HubLink } = await dist('agent/link/hub-link.js');
  const { ConsoleTunnels } = await dist('agent/console/console-tunnel.js');
  const { locateConsole } = await dist('agent/drivers/libvirt/console-locate.js');
  const { Virsh } = await dist('agent/drivers/libvirt/virsh.js');
  const { runCommand } = await dist('common/run-command.js');

  const rand = randomBytes(3).toString('hex');
  const node = `bd-${rand}`;
  const workspace = `bdesk-${rand}`;
  const domain = `fb-desk-${rand}`;
  const dir = mkdtempSync(join(tmpdir(), `fb-desk-${rand}-`));
  const cleanup = [];
  try {
    // the guest: no OS, SeaBIOS's boot menu prompt waits a minute for ESC
    spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'disk.qcow2'), '16M']);
    writeFileSync(join(dir, 'dom.xml'), `<domain type='kvm'><name>${domain}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><metadata><foundry:agent xmlns:foundry="https://foundry.cloud/xmlns/agent/v1"><foundry:managed-by>foundry-agent</foundry:managed-by><foundry:node>${node}</foundry:node><foundry:id>${domain}</foundry:id><foundry:name>desktop</foundry:name><foundry:workspace>${workspace}</foundry:workspace><foundry:tenant>acme</foundry:tenant></foundry:agent></metadata><os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/><bootmenu enable='yes' timeout='60000'/></os><devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${join(dir, 'disk.qcow2')}'/><target dev='vda' bus='virtio'/></disk><graphics type='vnc' autoport='yes' listen='127.0.0.1'/><video><model type='vga'/></video></devices></domain>`);
    if (virsh(['define', '--file', join(dir, 'dom.xml')]).status !== 0 || virsh(['start', domain]).status !== 0) throw new Error('cannot start the benchmark guest');
    cleanup.push(() => {
      virsh(['destroy', domain]);
      virsh(['undefine', domain]);
    });
    // the hub with a hosted repo declaring the desktop workspace, and tom's session
    const seed = join(dir, 'seed');
    const files = {
      'cluster.yaml': doc('Cluster', 'main', '  hubUrl: http://127.0.0.1:1\n'),
      'tenants/acme.yaml': doc('Tenant', 'acme', '  displayName: ACME\n'),
      'templates/desktop.yaml': doc('WorkspaceTemplate', 'desktop', '  encryption: none\n  vm:\n    name: desktop\n    driver: libvirt\n    vcpus: 1\n    memory: 64Mi\n    disk:\n      baseImage: blank.qcow2\n'),
      'pricing.yaml': doc('PriceList', 'default', '  currency: EUR\n  periods:\n    - effectiveFrom: "2026-01-01T00:00:00Z"\n      gpuHour:\n        NVIDIA H100 80GB HBM3: "2.49"\n'),
      [`nodes/${node}.yaml`]: doc('Node', node, '  profile: gpu-node\n'),
      [`workspaces/acme/${workspace}.yaml`]: doc('Workspace', workspace, `  tenant: acme\n  template: desktop\n  node: ${node}\n  gpus:\n    count: 0\n`),
    };
    for (const [p, c] of Object.entries(files)) {
      spawnSync('mkdir', ['-p', dirname(join(seed, p))]);
      writeFileSync(join(seed, p), c);
    }
    const repoDir = join(dir, 'infra.git');
    await ensureHostedRepo(repoDir);
    await seedHostedRepo(repoDir, seed);
    const store = new HubStore(join(dir, 'hub.db'));
    const app = await buildApp({ store, repoDir, dashboard: { pollMs: 0 } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    cleanup.push(async () => {
      await app.close();
      await store.close();
    });
    const url = `http://127.0.0.1:${app.server.address().port}`;
    await createUser(store.users, { name: 'tom', role: 'tenant', tenant: 'acme' }, 'one-time-password-1', new Date());
    const login = await post(`${url}/api/v1/auth/login`, { user: 'tom', password: 'one-time-password-1' });
    const secret = new URL(login.body.otpauthUri).searchParams.get('secret');
    const setup = await post(`${url}/api/v1/auth/setup`, { ticket: login.body.ticket, newPassword: 'tom-new-password-123', code: OTPAuth.TOTP.generate({ secret: OTPAuth.Secret.fromBase32(secret) }) });
    const cookie = (setup.headers.get('set-cookie') ?? '').split(';')[0];
    const csrf = setup.body.csrfToken;
    // the node's agent side: the real link and console tunnels
    const credential = (await store.issueNodeCredential(node));
    const v = new Virsh(runCommand, URI);
    const silent = { debug() {}, info() {}, warn() {}, error() {} };
    const tunnels = new ConsoleTunnels({ hubUrl: url, credential, locate: (w) => locateConsole(v, node, w), log: silent });
    const link = new HubLink({ hubUrl: url, node, credential, stateDir: join(dir, 'agent'), handlers: { consoleOpen: (req) => tunnels.handle(req) } }).start();
    cleanup.unshift(async () => {
      tunnels.closeAll();
      await link.close();
    });
    await new Promise((r) => link.once('connected', r));

    // the two clients
    const at = await locateConsole(v, node, workspace);
    const tcp = connect({ host: at.host, port: at.port });
    tcp.setNoDelay(true);
    const direct = await new RfbClient(tcp).handshake();
    const t = await post(`${url}/api/v1/workspaces/${workspace}/desktop/ticket`, {}, { cookie, 'x-csrf-token': csrf });
    if (t.status !== 200) throw new Error(`no ticket: ${JSON.stringify(t.body)}`);
    const ws = new WebSocket(`${url.replace('http', 'ws')}${t.body.path}`, ['binary', `${t.body.protocolPrefix}${t.body.ticket}`], { headers: { cookie } });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const tunnel = await new RfbClient(createWebSocketStream(ws)).handshake();
    const pumps = { direct: pump(direct), tunnel: pump(tunnel) };
    cleanup.unshift(() => {
      pumps.direct.stopped = pumps.tunnel.stopped = true;
      direct.close();
      tunnel.close();
    });

    const tries = quick ? 2 : 8;
    const rtt = { direct: [], tunnel: [] };
    for (let i = 0; i < tries * 2; i++) {
      const path = i % 2 === 0 ? 'direct' : 'tunnel';
      rtt[path].push(await roundTrip(path === 'direct' ? direct : tunnel, pumps[path], domain, join(dir, 'vga.bin')));
    }
    const secs = quick ? 500 : 3000;
    const bw = { direct: [], tunnel: [] };
    for (let i = 0; i < (quick ? 1 : 3); i++) {
      bw.direct.push(await bandwidth(direct, pumps.direct, secs));
      bw.tunnel.push(await bandwidth(tunnel, pumps.tunnel, secs));
    }
    const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
    const mRtt = { direct: median(rtt.direct), tunnel: median(rtt.tunnel) };
    const mBw = { direct: median(bw.direct), tunnel: median(bw.tunnel) };
    const echo = await echoRow(quick ? 50 : 500);
    return {
      title: 'desktop console (real KVM guest, VNC)',
      rows: [
        { figure: 'key press → screen update, through the tunnel (browser ws → hub → agent ws → vnc)', median: mRtt.tunnel, unit: 'ms', runs: tries, peer: 'direct VNC', peerMedian: mRtt.direct, ratio: ratio(mRtt.tunnel, mRtt.direct) },
        { figure: `full-screen raw updates (${direct.width}×${direct.height}×${direct.bpp / 8} B) through the tunnel`, median: mBw.tunnel, unit: 'MB/s', runs: bw.tunnel.length, peer: 'direct VNC', peerMedian: mBw.direct, ratio: ratio(mBw.tunnel, mBw.direct) },
        echo,
      ],
      notes: ['round trip: SeaBIOS boot menu after ESC (guest reset before each try, tries alternate between the paths); it includes when QEMU\'s VNC server next refreshes the display, which the echo row leaves out; bandwidth: non-incremental raw updates back to back; hub, agent and clients share this process'],
    };
  } finally {
    for (const c of cleanup) await c();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await run({ quick: process.argv.includes('--quick') });
  console.log(JSON.stringify(r, null, 2));
  process.exit(0);
}

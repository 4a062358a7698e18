/**
 * The desktop tests' fleet: a real KVM guest with no OS (SeaBIOS shows "Press ESC for boot menu" for a
 * minute), carrying our metadata for a unique node and workspace; a hosted infra repo whose workspace uses
 * a libvirt VM template; a hub (restartable on the same port and database); users tom (acme, the
 * workspace's tenant) and eve (globex); and the node's agent side: the real HubLink with the real console
 * tunnels and locator on qemu:///system.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppDeps } from '../../hub/app.js';
import { HubStore } from '../../hub/store/hub-store.js';
import { HubLink } from '../../agent/link/hub-link.js';
import { ConsoleTunnels } from '../../agent/console/console-tunnel.js';
import { locateConsole } from '../../agent/drivers/libvirt/console-locate.js';
import { Virsh } from '../../agent/drivers/libvirt/virsh.js';
import { runCommand } from '../../common/run-command.js';
import { hostedRepo } from '../workspaces/git-fixture.js';
import { addUser, firstLogin, type Session } from '../dashboard/support.js';
import { sh, URI, virshDefine, virshTry } from '../libvirt/helpers.js';

const doc = (kind: string, name: string, spec: string): string => `apiVersion: foundry.cloud/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n${spec}`;

/** A running guest with no OS: SeaBIOS's boot menu prompt waits `menuMs` for ESC. */
export interface Guest {
  domain: string;
  /** The text on the guest's VGA text screen now (80x25, read from guest memory through QEMU's monitor). */
  screenText(): string;
  reset(): void;
  destroy(): void;
}

/** Defines and starts the guest (64 MiB, a blank 16 MiB disk, VNC on 127.0.0.1, our metadata). */
export function startGuest(dir: string, domain: string, node: string, workspace: string, menuMs = 60_000): Guest {
  const disk = join(dir, `${domain}.qcow2`);
  sh('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M']);
  virshDefine('define', `<domain type='kvm'><name>${domain}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<metadata><foundry:agent xmlns:foundry="https://foundry.cloud/xmlns/agent/v1"><foundry:managed-by>foundry-agent</foundry:managed-by><foundry:node>${node}</foundry:node><foundry:workspace>${workspace}</foundry:workspace><foundry:tenant>acme</foundry:tenant><foundry:id>ws.${workspace}.vm.desktop</foundry:id></foundry:agent></metadata>
<os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/><bootmenu enable='yes' timeout='${menuMs}'/></os>
<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${disk}'/><target dev='vda' bus='virtio'/></disk>
<graphics type='vnc' autoport='yes' listen='127.0.0.1'/><video><model type='vga'/></video></devices></domain>`);
  sh('virsh', ['-q', '-c', URI, 'start', domain]);
  const dump = join(dir, `${domain}.vga`);
  return {
    domain,
    screenText() {
      // VGA text memory at 0xb8000: 80x25 cells of (character, attribute).
      sh('virsh', ['-q', '-c', URI, 'qemu-monitor-command', domain, '--hmp', `pmemsave 0xb8000 4000 "${dump}"`]);
      const mem = readFileSync(dump);
      const rows: string[] = [];
      for (let r = 0; r < 25; r++) {
        let line = '';
        for (let c = 0; c < 80; c++) {
          const ch = mem[(r * 80 + c) * 2] ?? 32;
          line += ch >= 32 && ch < 127 ? String.fromCharCode(ch) : ' ';
        }
        rows.push(line.trimEnd());
      }
      return rows.join('\n');
    },
    reset() {
      sh('virsh', ['-q', '-c', URI, 'reset', domain]);
    },
    destroy() {
      virshTry(['destroy', domain]);
      virshTry(['undefine', domain]);
    },
  };
}

/** The repo: one node, tenants acme and globex, a libvirt desktop template, acme's desktop workspace on the node. */
export function deskFiles(node: string, workspace: string): Record<string, string> {
  return {
    'cluster.yaml': doc('Cluster', 'main', '  hubUrl: http://127.0.0.1:1\n'),
    'tenants/acme.yaml': doc('Tenant', 'acme', '  displayName: ACME\n'),
    'tenants/globex.yaml': doc('Tenant', 'globex', '  displayName: Globex\n'),
    'templates/desktop.yaml': doc('WorkspaceTemplate', 'desktop', '  vm:\n    name: desktop\n    driver: libvirt\n    vcpus: 1\n    memory: 64Mi\n    disk:\n      baseImage: blank.qcow2\n'),
    'pricing.yaml': doc('PriceList', 'default', '  currency: EUR\n  periods:\n    - effectiveFrom: "2026-01-01T00:00:00Z"\n      gpuHour:\n        NVIDIA H100 80GB HBM3: "2.49"\n'),
    [`nodes/${node}.yaml`]: doc('Node', node, '  profile: gpu-node\n'),
    [`workspaces/acme/${workspace}.yaml`]: doc('Workspace', workspace, `  tenant: acme\n  template: desktop\n  node: ${node}\n  gpus:\n    count: 0\n`),
  };
}

/** Hub, agent side, guest and sessions of the desktop tests. */
export interface DeskFleet {
  dir: string;
  node: string;
  workspace: string;
  url: string;
  port: number;
  app: FastifyInstance;
  store: HubStore;
  guest: Guest;
  link: HubLink;
  tunnels: ConsoleTunnels;
  tom: Session;
  eve: Session;
  /** Stops the hub and starts a new one on the same port and database (sessions survive, tickets do not). */
  restartHub(): Promise<void>;
  close(): Promise<void>;
}

/** Starts it all. */
export async function startDeskFleet(extra: Partial<AppDeps> = {}): Promise<DeskFleet> {
  const rand = randomBytes(3).toString('hex');
  const node = `dk-${rand}`;
  const workspace = `desk-${rand}`;
  const dir = mkdtempSync(join(tmpdir(), `ft-desk-${rand}-`));
  const repoDir = await hostedRepo(dir, deskFiles(node, workspace));
  const guest = startGuest(dir, `ft-desk-${rand}`, node, workspace);
  const dbPath = join(dir, 'hub.db');
  let store = new HubStore(dbPath);
  const build = async (port: number): Promise<FastifyInstance> => {
    const app = await buildApp({ store, repoDir, telemetryFlushMs: 200, dashboard: { pollMs: 250 }, ...extra });
    await app.listen({ port, host: '127.0.0.1' });
    return app;
  };
  let app = await build(0);
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  const url = `http://127.0.0.1:${port}`;
  await addUser(store, 'tom', 'tenant', 'acme');
  await addUser(store, 'eve', 'tenant', 'globex');
  const tom = await firstLogin(url, 'tom', 'one-time-password-1', 'tom-new-password-123');
  const eve = await firstLogin(url, 'eve', 'one-time-password-1', 'eve-new-password-123');
  const credential = (await store.issueNodeCredential(node));
  const virsh = new Virsh(runCommand, URI);
  const tunnels = new ConsoleTunnels({ hubUrl: url, credential, locate: (ws) => locateConsole(virsh, node, ws), log: { debug() {}, info() {}, warn() {}, error() {} } });
  const link = new HubLink({ hubUrl: url, node, credential, stateDir: join(dir, 'agent'), handlers: { consoleOpen: (req) => tunnels.handle(req) } }).start();
  await new Promise<void>((resolve) => link.once('connected', () => resolve()));
  const fleet: DeskFleet = {
    dir, node, workspace, url, port, app, store, guest, link, tunnels, tom, eve,
    async restartHub() {
      await fleet.app.close();
      store.close();
      store = new HubStore(dbPath);
      fleet.store = store;
      fleet.app = app = await build(port);
    },
    async close() {
      tunnels.closeAll();
      // a test may have closed the link already (to run the whole agent instead)
      await link.close().catch(() => undefined);
      await app.close();
      store.close();
      guest.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fleet;
}

/**
 * The OpenStack driver against a live OpenStack (scripts/openstack-up.sh: Keystone, Placement, Glance,
 * Neutron's API, Nova with libvirt on this host's KVM). Each test works under its own node name, so its
 * servers are told apart from others' by the ownership metadata alone, and deletes them at the end.
 * One file: the tests run one after another (one compute host, and the last one restarts Nova's API).
 */
import { afterAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseAgentConfig } from '../../agent/config/load-config.js';
import { buildReconciler } from '../../agent/reconcile/gitops-loop.js';
import type { ReconcileResult } from '../../agent/reconcile/reconciler.js';
import { commitRepo, initGitRepo } from '../agent/infra-fixture.js';
import type { DesiredVm } from '../../agent/desired.js';
import type { OpenStackDriver } from '../../agent/drivers/openstack/openstack-driver.js';
import { planActions, type PlanResult } from '../../agent/plan.js';
import { describeIf } from '../support/requires.js';
import { CLOUDS, COMPUTE_HOST, LIVE_HOW, NovaHands, OS_DIR, UP_SCRIPT, liveCloudUp, liveDriver, liveVm, poll } from './live-cloud.js';

const RUN = `fl${process.pid.toString(36)}`;
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const BUILD_MS = 180_000;

describeIf(liveCloudUp(), 'a live OpenStack', LIVE_HOW)('openstack driver against a live Nova', () => {
  const admin = new NovaHands();
  const user = new NovaHands('foundry');
  afterAll(async () => {
    await admin.purge(RUN);
    await admin.purge(`fc-ws-acme-${RUN}`);
  }, 300_000);

  async function converge(driver: OpenStackDriver, node: string, resources: DesiredVm[]): Promise<PlanResult> {
    const plan = planActions({ node, revision: 'r', profile: 'gpu-node', resources, allowMassPrune: true }, await driver.list(node));
    for (const a of plan.actions) await driver.apply(a);
    return plan;
  }
  const done = (plan: PlanResult): string[] => plan.actions.map((a) => `${a.type} ${a.id}`);
  /** Waits until the driver sees `vm` in `state` (its server settled). */
  const settled = async (driver: OpenStackDriver, vm: DesiredVm, state: string): Promise<string> =>
    (await poll(async () => (await driver.list(vm.owner.node)).find((o) => o.id === vm.id && o.state === state && o.facts.status !== 'BUILD'), BUILD_MS, `${vm.name} ${state}`)).runtimeId;

  it('creates from image and flavor with our metadata, recreates on a spec change, starts after a stop by hand, prunes, leaves a foreign server alone', async () => {
    const node = `${RUN}-a`;
    const driver = liveDriver();
    let vm = liveVm(node, 'desk');
    // Servers of the same project made by hand: one without our metadata, one of another node's agent.
    const foreignId = await user.create(`${node}-desk-foreign`);
    const otherNode = liveVm(`${node}x`, 'desk');
    const otherId = await user.create(`${node}-desk-other`, { 'foundry.cloud:managed-by': 'foundry-agent', 'foundry.cloud:node': otherNode.owner.node, 'foundry.cloud:id': otherNode.id, 'foundry.cloud:name': 'desk', 'foundry.cloud:spec-hash': otherNode.specHash, 'foundry.cloud:reclaim': 'Delete', 'foundry.cloud:workspace': 'acme-live', 'foundry.cloud:tenant': 'acme' });

    expect(done(await converge(driver, node, [vm]))).toEqual([`create ${vm.id}`]);
    const id = await settled(driver, vm, 'running');
    const server = await admin.server(id);
    expect(server?.status).toBe('ACTIVE');
    expect(server?.metadata).toMatchObject({ 'foundry.cloud:managed-by': 'foundry-agent', 'foundry.cloud:node': node, 'foundry.cloud:id': vm.id, 'foundry.cloud:spec-hash': vm.specHash, 'foundry.cloud:reclaim': 'Delete' });
    expect(server?.['OS-EXT-SRV-ATTR:host']).toBe(COMPUTE_HOST);
    // A real KVM guest on this host's libvirtd.
    const dom = server?.['OS-EXT-SRV-ATTR:instance_name'] ?? '';
    expect(spawnSync('virsh', ['-c', 'qemu:///system', 'domstate', dom], { encoding: 'utf8' }).stdout.trim()).toBe('running');
    expect((await converge(driver, node, [vm])).counts).toMatchObject({ create: 0, recreate: 0, start: 0, remove: 0, noop: 1 });

    vm = liveVm(node, 'desk', { flavor: 'foundry.micro' });
    expect(done(await converge(driver, node, [vm]))).toEqual([`recreate ${vm.id}`]);
    const id2 = await settled(driver, vm, 'running');
    expect(id2).not.toBe(id);
    expect((await admin.server(id2))?.flavor?.original_name).toBe('foundry.micro');
    await poll(async () => (await admin.server(id)) === undefined, BUILD_MS, 'the old server gone');

    expect(await admin.action(id2, 'os-stop')).toBe(202);
    await settled(driver, vm, 'stopped');
    expect(done(await converge(driver, node, [vm]))).toEqual([`start ${vm.id}`]);
    expect(await settled(driver, vm, 'running')).toBe(id2);

    expect(done(await converge(driver, node, []))).toEqual([`remove ${vm.id}`]);
    await poll(async () => (await admin.server(id2)) === undefined, BUILD_MS, 'our server deleted');
    expect((await admin.server(foreignId))?.name).toBe(`${node}-desk-foreign`);
    expect((await admin.server(otherId))?.metadata?.['foundry.cloud:node']).toBe(`${node}x`);
    expect(await driver.list(node)).toEqual([]);
  }, 600_000);

  it('targets the compute host in both forms: the host field (microversion 2.74) and the "zone:host" availability zone', async () => {
    for (const [targeting, node] of [['microversion', `${RUN}-h1`], ['availability-zone', `${RUN}-h2`]] as const) {
      const driver = liveDriver('foundry-admin', { hostTargeting: targeting }); // targeting a host is admin-only in Nova's policy
      const vm = liveVm(node, 'pin', { host: COMPUTE_HOST });
      expect(done(await converge(driver, node, [vm]))).toEqual([`create ${vm.id}`]);
      const id = await settled(driver, vm, 'running');
      expect((await admin.server(id))?.['OS-EXT-SRV-ATTR:host']).toBe(COMPUTE_HOST);
      expect(done(await converge(driver, node, []))).toEqual([`remove ${vm.id}`]);
    }
    // A host Nova does not know: refused at once, with Nova's reason.
    const driver = liveDriver('foundry-admin');
    const vm = liveVm(`${RUN}-h3`, 'pin', { host: 'no-such-host' });
    await expect(converge(driver, vm.owner.node, [vm])).rejects.toMatchObject({ code: 'OPENSTACK_REQUEST', resource: vm.id, message: `create server for ${vm.id} failed (http 400): Compute host no-such-host could not be found.` });
  }, 600_000);

  it('lists across pages when the project has more servers than a page ([api] max_limit = 5)', async () => {
    const node = `${RUN}-p`;
    const pages: string[] = [];
    const driver = liveDriver('foundry', { fetch: (url, init) => (url.includes('/servers/detail') && pages.push(new URL(url).search), fetch(url, init)) });
    const vms = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7'].map((n) => liveVm(node, n));
    expect((await converge(driver, node, vms)).counts.create).toBe(7);
    // Nova pages servers still in BUILD (build requests, not yet in a cell) unreliably: a marker that moves
    // into a cell meanwhile can skip servers (seen here). Once they settle, the pages are exact.
    await poll(async () => (await driver.list(node)).filter((o) => o.facts.status === 'ACTIVE').length === 7, BUILD_MS, '7 servers ACTIVE', 2000);
    pages.length = 0;
    expect((await driver.list(node)).map((o) => o.id).sort()).toEqual(vms.map((v) => v.id).sort());
    expect(pages.length).toBeGreaterThanOrEqual(2);
    expect(pages.slice(1).every((q) => /[?&]marker=/.test(q))).toBe(true);
    expect((await converge(driver, node, [])).counts.remove).toBe(7);
  }, 600_000);

  it('refuses a server over the project quota with a clear message', async () => {
    const node = `${RUN}-q`;
    const driver = liveDriver('foundry-quota'); // openstack-up.sh allows this project one instance
    const [a, b] = [liveVm(node, 'q1'), liveVm(node, 'q2')];
    expect(done(await converge(driver, node, [a]))).toEqual([`create ${a.id}`]);
    await settled(driver, a, 'running');
    await expect(converge(driver, node, [a, b])).rejects.toMatchObject({
      code: 'OPENSTACK_QUOTA',
      resource: b.id,
      message: `create server for ${b.id} refused: project quota exceeded (Quota exceeded for instances: Requested 1, but already used 1 of 1 instances); free resources or raise the quota`,
    });
    expect(done(await converge(driver, node, []))).toEqual([`remove ${a.id}`]);
  }, 600_000);

  it("maps Nova's 409 to OPENSTACK_CONFLICT when the server was started by hand behind the agent's back, then converges", async () => {
    const node = `${RUN}-c`;
    const vm = liveVm(node, 'race');
    let raced = false;
    const driver = liveDriver('foundry', {
      fetch: async (url, init) => {
        // Right before the driver's os-start reaches Nova, someone else starts the server.
        if (!raced && url.endsWith('/action') && String(init.body).includes('os-start')) {
          raced = true;
          expect(await admin.action(url.split('/servers/')[1]!.split('/')[0]!, 'os-start')).toBe(202);
        }
        return fetch(url, init);
      },
    });
    await converge(driver, node, [vm]);
    const id = await settled(driver, vm, 'running');
    expect(await admin.action(id, 'os-stop')).toBe(202);
    await settled(driver, vm, 'stopped');
    const err = await converge(driver, node, [vm]).then(() => undefined, (e: unknown) => e);
    expect(raced).toBe(true);
    expect(err).toMatchObject({ code: 'OPENSTACK_CONFLICT', resource: vm.id, message: expect.stringMatching(new RegExp(`^os-start server for ${vm.id.replace(/\./g, '\\.')} conflicts with the server's current state \\(Cannot 'start' instance [0-9a-f-]+ while it is in (task_state powering-on|vm_state active)\\)$`)) });
    await settled(driver, vm, 'running');
    expect((await converge(driver, node, [vm])).counts.noop).toBe(1);
    await converge(driver, node, []);
  }, 600_000);

  it('renews a short-lived token halfway through its life, and re-authenticates when Nova answers 401 for a revoked token', async () => {
    const node = `${RUN}-t`;
    // Tokens live 10 min here ([token] expiration in openstack-up.sh); a margin longer than that would
    // renew on every call: the driver renews halfway instead.
    const renewing = liveDriver('foundry', { renewBeforeMs: 15 * 60_000 });
    await renewing.list(node);
    await renewing.list(node);
    expect(renewing.session.issued).toBe(1);
    // The driver's token is revoked behind its back (as an expired one, Keystone no longer accepts it).
    const statuses: number[] = [];
    const seen: string[] = [];
    const driver = liveDriver('foundry', {
      fetch: async (url, init) => {
        const r = await fetch(url, init);
        if (url.includes('/servers/detail')) {
          statuses.push(r.status);
          seen.push(String((init.headers as Record<string, string>)['X-Auth-Token']));
        }
        return r;
      },
    });
    await driver.list(node);
    const identity = await admin.session.endpoint('identity');
    const revoke = await fetch(`${identity}/auth/tokens`, { method: 'DELETE', headers: { 'X-Auth-Token': await admin.session.token(), 'X-Subject-Token': seen[0]! } });
    expect(revoke.status).toBe(204);
    await new Promise((r) => setTimeout(r, 25_000)); // Nova's auth middleware caches a validation 20 s (openstack-up.sh)
    expect(await driver.list(node)).toEqual([]);
    // Each list reads every page of the project; exactly one request met the revoked token, and was retried.
    const at = statuses.indexOf(401);
    expect(statuses.filter((x) => x !== 200)).toEqual([401]);
    expect(seen[at]).toBe(seen[0]);
    expect(seen[at + 1]).not.toBe(seen[0]);
    expect(driver.session.issued).toBe(2);
  }, 300_000);
  it("keeps the guest when Nova's API goes away under a running agent, reports the error, and converges when it is back", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fc-os-live-'));
    try {
      const node = `${RUN}-r`;
      const ws = `acme-${RUN}r`;
      const repo = join(dir, 'repo');
      initGitRepo(repo);
      commitRepo(repo, { node, templates: {}, workspaces: { [ws]: { template: 'desk' } }, extraFiles: { 'templates/desk.yaml': 'apiVersion: foundry.cloud/v1\nkind: WorkspaceTemplate\nmetadata: { name: desk }\nspec:\n  vm: { name: desk, driver: openstack, openstack: { flavor: foundry.nano, image: foundry-tiny } }\n' } }, 'a desktop vm on openstack');
      const config = [`node: ${node}`, `repo: { url: ${repo} }`, `cacheDir: ${join(dir, 'cache')}`, `stateDir: ${join(dir, 'state')}`, `podman: { socketPath: ${join(dir, 'no-podman.sock')} }`, `openstack: { cloudsFile: ${CLOUDS}, cloud: foundry, networks: none, timeout: 60s }`].join('\n');
      const reconciler = await buildReconciler(parseAgentConfig(config, join(dir, 'agent.yaml')), pino({ level: 'silent' }));
      const id = `ws.${ws}.vm.desk`;
      const driver = liveDriver();
      const phase = (r: ReconcileResult): string | undefined => r.status.resources.find((x) => x.id === id)?.phase;
      await reconciler.trigger('test', { ignoreBackoff: true });
      const serverId = (await poll(async () => (await driver.list(node)).find((o) => o.id === id && o.state === 'running'), BUILD_MS, 'the agent\'s server ACTIVE')).runtimeId;
      await poll(async () => phase(await reconciler.trigger('test', { ignoreBackoff: true })) === 'Ready', BUILD_MS, 'Ready', 2000);
      const dom = (await admin.server(serverId))?.['OS-EXT-SRV-ATTR:instance_name'] ?? '';

      const pid = Number(readFileSync(join(OS_DIR, 'run', 'nova-api.pid'), 'utf8'));
      process.kill(pid, 'SIGTERM');
      await poll(() => !alive(pid), 60_000, 'nova-api stopped', 200);
      const down = await reconciler.trigger('test', { ignoreBackoff: true });
      // (This agent has no Podman: its "container engine is not reachable" error is there all along.)
      const novaErrors = (r: ReconcileResult): string[] => r.status.errors.filter((e) => !/container engine/.test(e.message)).map((e) => `${e.code}: ${e.message}`);
      expect(novaErrors(down).join('\n')).toMatch(/servers\/detail.*ECONNREFUSED/);
      expect(spawnSync('virsh', ['-c', 'qemu:///system', 'domstate', dom], { encoding: 'utf8' }).stdout.trim()).toBe('running');

      const up = spawnSync('bash', [UP_SCRIPT], { encoding: 'utf8', timeout: 400_000 });
      expect(up.status, up.stderr.slice(-2000)).toBe(0);
      let last: ReconcileResult | undefined;
      const back = await poll(
        async () => {
          last = await reconciler.trigger('test', { ignoreBackoff: true });
          return novaErrors(last).length === 0 && phase(last) === 'Ready' ? last : undefined;
        },
        120_000,
        'converged after the restart',
        2000,
      ).catch((e: Error) => {
        throw new Error(`${e.message}: ${JSON.stringify({ counts: last?.status.lastReconcile.counts, errors: last?.status.errors, resources: last?.status.resources })}`);
      });
      expect(back.status.lastReconcile.counts).toMatchObject({ create: 0, recreate: 0, remove: 0 });
      expect((await driver.list(node)).map((o) => o.runtimeId)).toEqual([serverId]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 900_000);
});

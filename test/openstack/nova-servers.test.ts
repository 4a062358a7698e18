/**
 * Nova servers against the API reference's samples: the exact create requests (flavor, image, network,
 * availability zone, host targeting, user data, our metadata), listing by our metadata with pagination,
 * start/stop/delete, a converge run with the real planner, and each Nova fault mapped to a typed error.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Action, DesiredVm } from '../../agent/desired.js';
import { OpenStackDriver } from '../../agent/drivers/openstack/openstack-driver.js';
import { planActions, type PlanResult } from '../../agent/plan.js';
import { FakeCloud, sample, SAMPLE_PROJECT, SAMPLE_TOKEN } from './fake-cloud.js';
import { osVm, PASSWORD_CREDS, TestClock } from './helpers.js';

const NOVA = `/p8774/v2.1/${SAMPLE_PROJECT}`;
const OURS = (vm: DesiredVm, over: Record<string, string> = {}): Record<string, string> => ({
  'foundry.cloud:managed-by': 'foundry-agent',
  'foundry.cloud:node': vm.owner.node,
  'foundry.cloud:id': vm.id,
  'foundry.cloud:name': vm.ref.name,
  'foundry.cloud:spec-hash': vm.specHash,
  'foundry.cloud:reclaim': vm.reclaimPolicy,
  'foundry.cloud:workspace': 'acme-alice',
  'foundry.cloud:tenant': 'acme',
  ...over,
});

describe('nova servers (against the api-ref samples)', () => {
  let cloud: FakeCloud;
  let driver: OpenStackDriver;
  const create = (vm: DesiredVm): Action => ({ type: 'create', kind: 'vm', id: vm.id, key: vm.id, reason: 't', desired: vm, observed: undefined, phase: 2 });
  const posts = (): { headers: Record<string, string | undefined>; body: unknown }[] => cloud.requests.filter((r) => r.method === 'POST' && r.path === `${NOVA}/servers`);
  async function converge(resources: DesiredVm[]): Promise<PlanResult> {
    const plan = planActions({ node: 'n1', revision: 'r', profile: 'gpu-node', resources, allowMassPrune: true }, await driver.list('n1'));
    for (const a of plan.actions) await driver.apply(a);
    return plan;
  }
  const done = (plan: PlanResult): string[] => plan.actions.map((a) => `${a.type} ${a.id}`);

  beforeEach(async () => {
    cloud = new FakeCloud();
    await cloud.start();
    driver = new OpenStackDriver({ authUrl: cloud.authUrl, credentials: PASSWORD_CREDS, now: new TestClock().now });
  });
  afterEach(async () => cloud.stop());

  it('creates a server: flavor and image by name, network by name, zone, key, user data and our metadata', async () => {
    const vm = osVm('desk', { network: 'private', userData: '#cloud-config\nhostname: desk\n', openstack: { flavor: 'm1.small', image: 'cirros-0.3.2-x86_64-disk', availabilityZone: 'us-west', keyName: 'ops' } });
    await driver.apply(create(vm));
    expect(cloud.novaRequests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET ${NOVA}/flavors`,
      'GET /p9292/v2/images?name=cirros-0.3.2-x86_64-disk',
      'GET /p9696/v2.0/networks?name=private',
      `POST ${NOVA}/servers`,
    ]);
    const post = posts()[0];
    expect(post?.headers['x-auth-token']).toBe(SAMPLE_TOKEN);
    expect(post?.headers['content-type']).toBe('application/json');
    expect(post?.headers['openstack-api-version']).toBeUndefined();
    expect(post?.body).toEqual({
      server: {
        name: 'acme-alice-desk',
        imageRef: '1bea47ed-f6a9-463b-b423-14b9cca9ad27',
        flavorRef: '2',
        networks: [{ uuid: 'db193ab3-96e3-4cb3-8fc5-05f4296d0324' }],
        availability_zone: 'us-west',
        key_name: 'ops',
        user_data: Buffer.from('#cloud-config\nhostname: desk\n').toString('base64'),
        metadata: OURS(vm),
      },
    });
    // Every field we send is one the reference's create samples use (key_name is documented in the parameter list).
    const documented = new Set([...Object.keys(sample<{ server: object }>('nova/server-create-req.json').server), ...Object.keys(sample<{ server: object }>('nova/v2.74-server-create-req-with-only-host.json').server), 'key_name']);
    expect(Object.keys((post?.body as { server: object }).server).filter((k) => !documented.has(k))).toEqual([]);
    for (const key of Object.keys(OURS(vm))) expect(key).toMatch(/^[a-zA-Z0-9-_:. ]{1,255}$/); // nova's metadata key pattern
  });

  it('targets a host with the host field and microversion 2.74, as in the v2.74 sample', async () => {
    const vm = osVm('pinned', { openstack: { flavor: '6', image: '70a599e0-31e7-49b7-b260-868f441e862b', host: 'openstack-node-01' } });
    await driver.apply(create(vm));
    const post = posts()[0];
    expect(post?.headers['openstack-api-version']).toBe('compute 2.74');
    const ref = sample<{ server: Record<string, unknown> }>('nova/v2.74-server-create-req-with-only-host.json').server;
    const body = (post?.body as { server: Record<string, unknown> }).server;
    expect({ host: body.host, networks: body.networks, flavorRef: body.flavorRef, imageRef: body.imageRef }).toEqual({ host: ref.host, networks: ref.networks, flavorRef: ref.flavorRef, imageRef: ref.imageRef });
    expect(body.availability_zone).toBeUndefined();
  });

  it('targets a host with the legacy "zone:host" availability zone when configured', async () => {
    driver = new OpenStackDriver({ authUrl: cloud.authUrl, credentials: PASSWORD_CREDS, now: new TestClock().now, hostTargeting: 'availability-zone' });
    await driver.apply(create(osVm('pinned', { openstack: { flavor: '1', image: '70a599e0-31e7-49b7-b260-868f441e862b', availabilityZone: 'us-west', host: 'openstack-node-01' } })));
    const post = posts()[0];
    expect(post?.headers['openstack-api-version']).toBeUndefined();
    expect((post?.body as { server: Record<string, unknown> }).server).toMatchObject({ availability_zone: 'us-west:openstack-node-01' });
    expect((post?.body as { server: Record<string, unknown> }).server.host).toBeUndefined();
  });

  it('asks for no network with microversion 2.37 when configured (networks: none), and keeps it with the host field', async () => {
    driver = new OpenStackDriver({ authUrl: cloud.authUrl, credentials: PASSWORD_CREDS, now: new TestClock().now, noNetwork: 'none' });
    await driver.apply(create(osVm('bare')));
    await driver.apply(create(osVm('pinned', { openstack: { flavor: '1', image: '70a599e0-31e7-49b7-b260-868f441e862b', host: 'openstack-node-01' } })));
    const [bare, pinned] = posts();
    expect(bare?.headers['openstack-api-version']).toBe('compute 2.37');
    expect((bare?.body as { server: Record<string, unknown> }).server.networks).toBe('none');
    expect(pinned?.headers['openstack-api-version']).toBe('compute 2.74');
    expect((pinned?.body as { server: Record<string, unknown> }).server).toMatchObject({ networks: 'none', host: 'openstack-node-01' });
  });

  it('lists only servers with our metadata for this node, with states mapped, across pages', async () => {
    const a = osVm('a');
    const b = osVm('b');
    const c = osVm('c');
    const e = osVm('e');
    cloud.addServer({ name: a.name, status: 'ACTIVE', metadata: OURS(a) });
    cloud.addServer({ name: b.name, status: 'SHUTOFF', metadata: OURS(b, { 'foundry.cloud:reclaim': 'Delete' }) });
    cloud.addServer({ name: c.name, status: 'BUILD', metadata: OURS(c) });
    cloud.addServer({ ...sample<{ server: Record<string, unknown> }>('nova/fault-server-error-state.json').server, id: 'err-1', name: e.name, status: 'ERROR', metadata: OURS(e) } as never);
    cloud.addServer({ name: 'other-node', status: 'ACTIVE', metadata: OURS(osVm('x'), { 'foundry.cloud:node': 'n2' }) });
    cloud.addServer({ name: 'deleting', status: 'ACTIVE', metadata: OURS(osVm('y')), 'OS-EXT-STS:task_state': 'deleting' });
    cloud.pageSize = 2;
    const found = await driver.list('n1');
    expect(found.map((o) => [o.id, o.state, o.reclaimPolicy, o.facts.status])).toEqual([
      [a.id, 'running', 'Retain', 'ACTIVE'],
      [b.id, 'stopped', 'Delete', 'SHUTOFF'],
      [c.id, 'created', 'Retain', 'BUILD'],
      [e.id, 'failed', 'Retain', 'ERROR'],
    ]);
    expect(found[3]?.facts.fault).toBe('No valid host was found. There are not enough hosts available.');
    expect(found[0]).toMatchObject({ kind: 'vm', name: a.name, specHash: a.specHash, owner: { node: 'n1', workspace: 'acme-alice', tenant: 'acme' }, facts: { driver: 'openstack', availabilityZone: 'us-west' } });
    // 7 servers (the sample's own first), 2 a page: the client follows the markers on its own endpoint.
    const ids = cloud.servers.map((s) => s.id);
    expect(cloud.novaRequests.map((r) => r.path)).toEqual([
      `${NOVA}/servers/detail`,
      `${NOVA}/servers/detail?limit=2&marker=${ids[1]}`,
      `${NOVA}/servers/detail?limit=2&marker=${ids[3]}`,
      `${NOVA}/servers/detail?limit=2&marker=${ids[5]}`,
    ]);
  });

  it('converges with the planner: create, no-op, recreate, start after a stop by hand, prune; a foreign server untouched', async () => {
    const foreignId = (cloud.servers[0] as { id: string }).id;
    let vm = osVm('desk');
    expect(done(await converge([vm]))).toEqual([`create ${vm.id}`]);
    expect(cloud.servers.filter((s) => s.name === vm.name)).toHaveLength(1);
    expect((await converge([vm])).counts).toMatchObject({ create: 0, recreate: 0, start: 0, remove: 0, noop: 1 });

    vm = osVm('desk', { openstack: { flavor: 'm1.large', image: '70a599e0-31e7-49b7-b260-868f441e862b' } });
    const oldId = cloud.servers.find((s) => s.name === vm.name)?.id;
    cloud.requests.length = 0;
    expect(done(await converge([vm]))).toEqual([`recreate ${vm.id}`]);
    expect(cloud.novaRequests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`)).toEqual([`DELETE ${NOVA}/servers/${oldId}`, `POST ${NOVA}/servers`]);
    expect((posts()[0]?.body as { server: { flavorRef: string; metadata: Record<string, string> } }).server).toMatchObject({ flavorRef: '4', metadata: { 'foundry.cloud:spec-hash': vm.specHash } });

    const server = cloud.servers.find((s) => s.name === vm.name);
    if (server === undefined) throw new Error('server missing');
    server.status = 'SHUTOFF';
    cloud.requests.length = 0;
    expect(done(await converge([vm]))).toEqual([`start ${vm.id}`]);
    const start = cloud.novaRequests.find((r) => r.method === 'POST');
    expect(start?.path).toBe(`${NOVA}/servers/${server.id}/action`);
    expect(start?.body).toEqual(sample('nova/server-action-start.json'));
    expect(server.status).toBe('ACTIVE');

    cloud.requests.length = 0;
    expect(done(await converge([]))).toEqual([`remove ${vm.id}`]);
    expect(cloud.novaRequests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([`${NOVA}/servers/${server.id}`]);
    expect(cloud.servers.map((s) => s.id)).toEqual([foreignId]);
  });

  it('stops a running server with os-stop when the workspace is stopped', async () => {
    const vm = osVm('desk');
    await converge([vm]);
    cloud.requests.length = 0;
    expect(done(await converge([{ ...vm, run: false }]))).toEqual([`stop ${vm.id}`]);
    expect(cloud.novaRequests.find((r) => r.method === 'POST')?.body).toEqual({ 'os-stop': null });
  });

  it('waits for a server still building instead of starting it', async () => {
    cloud.createdStatus = 'BUILD';
    const vm = osVm('desk');
    await converge([vm]);
    cloud.requests.length = 0;
    expect(done(await converge([vm]))).toEqual([`start ${vm.id}`]);
    expect(cloud.novaRequests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('refuses to act on a server whose metadata is not ours', async () => {
    const foreign = cloud.servers[0] as { id: string };
    const observed = { kind: 'vm' as const, id: 'ws.acme-alice.vm.zz', name: 'new-server-test', runtimeId: foreign.id, owner: { node: 'n1' }, specHash: 'h', state: 'running' as const, reclaimPolicy: 'Retain' as const, facts: {} };
    await expect(driver.apply({ type: 'remove', kind: 'vm', id: observed.id, key: observed.id, reason: 't', desired: undefined, observed, phase: 0 })).rejects.toMatchObject({ code: 'VM_ACTION', resource: observed.id });
    expect(cloud.requests.some((r) => r.method === 'DELETE')).toBe(false);
  });

  describe('nova faults become typed errors', () => {
    const vm = osVm('desk');
    it.each([
      [{ status: 403, name: 'forbidden', message: 'Quota exceeded for instances: Requested 1, but already used 10 of 10 instances' }, 'OPENSTACK_QUOTA', 'create server for ws.acme-alice.vm.desk refused: project quota exceeded (Quota exceeded for instances: Requested 1, but already used 10 of 10 instances); free resources or raise the quota'],
      [{ status: 400, name: 'badRequest', message: 'No valid host was found. There are not enough hosts available.' }, 'OPENSTACK_NO_VALID_HOST', 'create server for ws.acme-alice.vm.desk failed: no compute host can take it (No valid host was found. There are not enough hosts available.); check the flavor, availability zone and host targeting'],
      [{ status: 500, name: 'computeFault', message: 'No valid host was found. ' }, 'OPENSTACK_NO_VALID_HOST', 'create server for ws.acme-alice.vm.desk failed: no compute host can take it (No valid host was found. ); check the flavor, availability zone and host targeting'],
      [{ status: 409, name: 'conflictingRequest', message: 'Port 9c2d already in use' }, 'OPENSTACK_CONFLICT', "create server for ws.acme-alice.vm.desk conflicts with the server's current state (Port 9c2d already in use)"],
      [{ status: 500, name: 'computeFault', message: 'Unexpected API Error.' }, 'OPENSTACK_REQUEST', 'create server for ws.acme-alice.vm.desk failed (http 500): Unexpected API Error.'],
    ])('%j → %s', async (fault, code, message) => {
      cloud.failCreate = fault;
      await expect(driver.apply(create(vm))).rejects.toMatchObject({ code, message, resource: vm.id });
    });

    it('maps a 409 on a server action to OPENSTACK_CONFLICT', async () => {
      await converge([vm]);
      const server = cloud.servers.find((s) => s.name === vm.name);
      if (server === undefined) throw new Error('server missing');
      server.status = 'SHUTOFF';
      cloud.failAction = { status: 409, name: 'conflictingRequest', message: "Cannot 'start' instance while it is in task_state powering-on" };
      await expect(converge([vm])).rejects.toMatchObject({ code: 'OPENSTACK_CONFLICT', retry: 'transient', resource: vm.id });
    });

    it('deletes a server that failed with "no valid host" and reports it, leaving the next tick to create it again', async () => {
      const err = sample<{ server: Record<string, unknown> }>('nova/fault-server-error-state.json').server;
      const s = cloud.addServer({ ...err, id: String(err.id), name: vm.name, status: 'ERROR', metadata: OURS(vm) } as never);
      await expect(converge([vm])).rejects.toMatchObject({ code: 'OPENSTACK_NO_VALID_HOST', retry: 'wait', resource: vm.id });
      expect(cloud.servers.some((x) => x.id === s.id)).toBe(false);
      expect(done(await converge([vm]))).toEqual([`create ${vm.id}`]);
    });

    it('deletes a server that failed Nova\'s quota recheck at build time and reports OPENSTACK_QUOTA', async () => {
      const s = cloud.addServer({ name: vm.name, status: 'ERROR', metadata: OURS(vm), fault: { code: 403, message: 'Quota exceeded for instances: Requested 1, but already used 1 of 1 instances' } } as never);
      await expect(converge([vm])).rejects.toMatchObject({ code: 'OPENSTACK_QUOTA', resource: vm.id, message: expect.stringContaining('failed to build: project quota exceeded (Quota exceeded for instances') });
      expect(cloud.servers.some((x) => x.id === s.id)).toBe(false);
    });

    it('recreates a server in ERROR for another reason', async () => {
      cloud.addServer({ name: vm.name, status: 'ERROR', metadata: OURS(vm), fault: { code: 500, message: 'Build of instance aborted: volume error' } } as never);
      await converge([vm]);
      expect(cloud.servers.filter((s) => s.name === vm.name).map((s) => s.status)).toEqual(['ACTIVE']);
    });
  });
});

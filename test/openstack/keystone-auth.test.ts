/**
 * Keystone v3 against the API reference's samples: the exact auth requests for password and
 * application credentials, token caching and renewal before expiry, re-authentication after a 401,
 * and credentials never showing in errors, logs or the driver object.
 */
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OpenStackDriver } from '../../agent/drivers/openstack/openstack-driver.js';
import { FakeCloud, sample, SAMPLE_PROJECT, SAMPLE_TOKEN } from './fake-cloud.js';
import { PASSWORD_CREDS, TestClock } from './helpers.js';

describe('keystone v3 auth (against the api-ref samples)', () => {
  let cloud: FakeCloud;
  let clock: TestClock;
  const logs: string[] = [];
  const driver = (over: Partial<ConstructorParameters<typeof OpenStackDriver>[0]> = {}): OpenStackDriver =>
    new OpenStackDriver({ authUrl: cloud.authUrl, credentials: PASSWORD_CREDS, now: clock.now, log: (m) => logs.push(m), ...over });

  beforeEach(async () => {
    cloud = new FakeCloud();
    await cloud.start();
    clock = new TestClock();
    logs.length = 0;
  });
  afterEach(async () => cloud.stop());

  it('sends the password request of the reference (user by name and domain, project scope by id)', async () => {
    await driver().list('n1');
    const auth = cloud.requests[0];
    expect(auth?.method).toBe('POST');
    expect(auth?.path).toBe('/p5000/v3/auth/tokens');
    expect(auth?.headers['content-type']).toBe('application/json');
    expect(auth?.headers['x-auth-token']).toBeUndefined();
    // identity exactly as in auth-password-unscoped-request-with-domain.json, scope as in auth-token-scoped-request.json.
    const identity = sample<{ auth: { identity: unknown } }>('keystone/auth-password-unscoped-request-with-domain.json').auth.identity;
    const scope = sample<{ auth: { scope: { project: { id: string } } } }>('keystone/auth-token-scoped-request.json').auth.scope;
    scope.project.id = SAMPLE_PROJECT;
    expect(auth?.body).toEqual({ auth: { identity, scope } });
  });

  it('uses the token and the public compute endpoint from the catalog', async () => {
    await driver().list('n1');
    const list = cloud.requests[1];
    expect(list?.method).toBe('GET');
    expect(list?.path).toBe(`/p8774/v2.1/${SAMPLE_PROJECT}/servers/detail`);
    expect(list?.headers['x-auth-token']).toBe(SAMPLE_TOKEN);
    expect(list?.headers['openstack-api-version']).toBeUndefined();
    expect(await driver().probe()).toEqual({ available: true, message: `nova at ${cloud.base}/p8774/v2.1/${SAMPLE_PROJECT}` });
  });

  it('sends the application credential request of the reference, and says when the catalog has no nova', async () => {
    const sampleReq = sample<{ auth: { identity: { application_credential: { id: string; secret: string } } } }>('keystone/auth-application-credential-id-request.json');
    const { id, secret } = sampleReq.auth.identity.application_credential;
    const d = driver({ credentials: { type: 'application_credential', id, secret } });
    const probe = await d.probe();
    expect(cloud.requests[0]?.body).toEqual(sampleReq);
    // The sample's catalog lists only keystone.
    expect(probe).toEqual({ available: false, message: 'the service catalog has no public compute endpoint' });
    await expect(d.list('n1')).rejects.toMatchObject({ code: 'OPENSTACK_AUTH' });
    expect(probe.message).not.toContain(secret);
  });

  it('caches the token and renews it only within the margin before expires_at', async () => {
    const d = driver({ renewBeforeMs: 5 * 60_000 });
    const expiresAt = Date.parse('2015-11-07T02:58:43.578887Z');
    await d.list('n1');
    await d.list('n1');
    clock.t = expiresAt - 6 * 60_000; // outside the margin: cached
    await d.list('n1');
    expect(cloud.requests.filter((r) => r.path.endsWith('/auth/tokens'))).toHaveLength(1);
    clock.t = expiresAt - 4 * 60_000; // inside the margin: renewed before use
    await d.list('n1');
    expect(cloud.requests.filter((r) => r.path.endsWith('/auth/tokens'))).toHaveLength(2);
    expect(cloud.requests.at(-1)?.headers['x-auth-token']).toBe(`${SAMPLE_TOKEN}-1`);
    await d.list('n1'); // the renewed token is cached in turn
    expect(d.session.issued).toBe(2);
  });

  it('renews a token living less than twice the margin halfway through its life, not on every call', async () => {
    // The sample's token lives 1 h (issued_at → expires_at); a 2 h margin would renew it before each call.
    const d = driver({ renewBeforeMs: 2 * 3_600_000 });
    const issuedAt = Date.parse('2015-11-07T01:58:43.578929Z');
    await d.list('n1');
    clock.t = issuedAt + 29 * 60_000;
    await d.list('n1');
    expect(d.session.issued).toBe(1);
    clock.t = issuedAt + 31 * 60_000; // past half its life
    await d.list('n1');
    expect(d.session.issued).toBe(2);
  });

  it('issues one token for concurrent callers', async () => {
    const d = driver();
    await Promise.all([d.list('n1'), d.list('n1'), d.list('n1')]);
    expect(cloud.requests.filter((r) => r.path.endsWith('/auth/tokens'))).toHaveLength(1);
  });

  it('re-authenticates once after a 401 and retries the call', async () => {
    const d = driver();
    await d.list('n1');
    cloud.rejectTokenOnce = true;
    await d.list('n1');
    expect(cloud.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual([
      'POST /p5000/v3/auth/tokens',
      `GET /p8774/v2.1/${SAMPLE_PROJECT}/servers/detail`,
      `GET /p8774/v2.1/${SAMPLE_PROJECT}/servers/detail`,
      'POST /p5000/v3/auth/tokens',
      `GET /p8774/v2.1/${SAMPLE_PROJECT}/servers/detail`,
    ]);
    expect(cloud.requests.at(-1)?.headers['x-auth-token']).toBe(`${SAMPLE_TOKEN}-1`);
  });

  it('reports refused credentials without the password, even when keystone echoes it', async () => {
    cloud.failAuth = { status: 401, body: { error: { code: 401, title: 'Unauthorized', message: `The password devstacker is not valid for user admin.` } } };
    const d = driver();
    const err = await d.list('n1').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OPENSTACK_AUTH', retry: 'wait', message: 'keystone refused the password credentials (http 401): The password [redacted] is not valid for user admin.' });
    const probe = await d.probe();
    expect(probe.available).toBe(false);
    for (const text of [JSON.stringify(err), String(err), probe.message, JSON.stringify(d), inspect(d, { depth: 10 }), ...logs]) {
      expect(text).not.toContain('devstacker');
    }
  });

  it('never shows the token or the password in errors, logs or the driver object after use', async () => {
    const d = driver();
    await d.list('n1');
    cloud.failCreate = { status: 400, name: 'badRequest', message: `Invalid token ${SAMPLE_TOKEN} for password devstacker` };
    const vm = { kind: 'vm' as const, ref: { kind: 'vm' as const, scope: 'workspace' as const, owner: 'a', name: 'x' }, id: 'ws.a.vm.x', name: 'a-x', owner: { node: 'n1' }, spec: { driver: 'openstack' as const, vcpus: 1, memoryBytes: undefined, disk: undefined, network: undefined, userData: undefined, hostDevices: [], gpuUuids: [], openstack: { flavor: '1', image: '70a599e0-31e7-49b7-b260-868f441e862b' } }, specHash: 'h', reclaimPolicy: 'Retain' as const, run: true };
    const err = await d.apply({ type: 'create', kind: 'vm', id: vm.id, key: vm.id, reason: 't', desired: vm, observed: undefined, phase: 2 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OPENSTACK_REQUEST', resource: 'ws.a.vm.x' });
    for (const text of [String(err), JSON.stringify(err), JSON.stringify(d), inspect(d, { depth: 10 }), ...logs]) {
      expect(text).not.toContain(SAMPLE_TOKEN);
      expect(text).not.toContain('devstacker');
    }
  });

  it('times out a cloud that does not answer', async () => {
    cloud.delayMs = 500;
    const err = await driver({ timeoutMs: 100 }).list('n1').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OPENSTACK_REQUEST', message: 'POST /p5000/v3/auth/tokens failed: no answer within 100 ms' });
  });

  it('names the request when the cloud cannot be reached', async () => {
    const d = new OpenStackDriver({ authUrl: 'http://127.0.0.1:1/v3', credentials: PASSWORD_CREDS, now: clock.now });
    const err = await d.list('n1').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OPENSTACK_REQUEST' });
    expect(String((err as Error).message)).toMatch(/^POST \/v3\/auth\/tokens failed: fetch failed/);
    expect(String((err as Error).message)).not.toContain('devstacker');
  });
});

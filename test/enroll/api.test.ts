/**
 * The enrollment API in-process (hub without a hosted repo: no node file) and `foundry hub token` on a data
 * dir: admin-only token routes with validated bodies, enroll with schema-checked inventory, nodes shown
 * pending → active → revoked, and revoking an enrolled node drops its live connection at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { frame, rawClient, startTestHub, tempDir, waitFor, type TestHub } from '../hub/support.js';
import { decodeJoinToken } from '../../common/enroll/token-format.js';
import { startHub } from '../../hub/server.js';
import { api, newToken, startEnrollHub, type EnrollHub } from './support.js';

const inventory = { hostname: 'n1.example', cpu: { model: 'x', cores: 8 }, memoryBytes: 2 ** 34, disks: [{ mount: '/', sizeBytes: 10 ** 11 }], gpus: [] };

describe('enrollment API', () => {
  let hub: TestHub;
  let admin: string;
  const call = async (method: string, path: string, body?: unknown, as: string | null = admin) => {
    const auth = as ?? undefined;
    const res = await fetch(`${hub.url}${path}`, { method, headers: { ...(auth === undefined ? {} : { authorization: `Bearer ${auth}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    hub = await startTestHub();
    admin = (await hub.store.createAdminToken('test'));
  });
  afterAll(async () => hub?.close());

  it('token routes need an admin and validate the body', async () => {
    expect((await call('POST', '/api/v1/join-tokens', {}, null)).status).toBe(401);
    expect((await call('GET', '/api/v1/join-tokens', undefined, 'fat_wrong')).status).toBe(401);
    const bad = await call('POST', '/api/v1/join-tokens', { uses: 0, labels: { 'bad key!': 'x' } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('/uses: must be >= 1');
    expect((await call('POST', '/api/v1/join-tokens', { ttl: '200h' })).body.message).toBe('ttl must be more than 0 and at most 168h');
    expect((await call('POST', '/api/v1/join-tokens/nope/revoke')).status).toBe(404);
  });

  it('enrolls a node; it is pending until it connects, active while connected, revoked (and dropped) when revoked', async () => {
    const created = await call('POST', '/api/v1/join-tokens', { ttl: '10m', uses: 3, profile: 'ceph-node', labels: { zone: 'fsn1' } });
    expect(created.status).toBe(201);
    const token = String(created.body.token);
    expect(decodeJoinToken(token)).toMatchObject({ pin: undefined, hubUrl: hub.url });

    const badBody = await call('POST', '/api/v1/enroll', { token, node: 'Bad_Name', inventory }, null);
    expect(badBody.status).toBe(400);
    expect(badBody.body.message).toContain('/node: must match pattern');

    const enrolled = await call('POST', '/api/v1/enroll', { token, node: 'ceph-1', hubUrl: 'http://10.1.2.3:8080', inventory }, null);
    expect(enrolled.status).toBe(201);
    expect(enrolled.body).toMatchObject({
      node: 'ceph-1',
      config: { node: 'ceph-1', repo: { url: 'http://10.1.2.3:8080/git/infra.git' }, hub: { url: 'http://10.1.2.3:8080' } },
      nodeFile: { path: 'nodes/ceph-1.yaml', status: 'not-written', revision: null },
    });
    const credential = String(enrolled.body.credential);
    expect(credential).toMatch(/^fnc_/);

    const taken = await call('POST', '/api/v1/enroll', { token, node: 'ceph-1', inventory }, null);
    expect(taken).toEqual({ status: 409, body: { code: 'NODE_NAME_TAKEN', message: 'node name ceph-1 is already enrolled: pick another name (--name) or ask an admin' } });

    const stateOf = async (): Promise<unknown> => ((await call('GET', '/api/v1/nodes')).body.nodes as Array<{ name: string; state: string }>).find((n) => n.name === 'ceph-1')?.state;
    expect(await stateOf()).toBe('pending');
    const client = await rawClient(hub.url, credential);
    client.send(frame('hello', { node: 'ceph-1', agentVersion: '0.1.0', appliedRevision: null, inventory: { gpus: [], resources: [] } }));
    await waitFor(async () => (await stateOf()) === 'active', 10_000, 'node active');

    expect((await call('POST', '/api/v1/nodes/ceph-1/revoke')).status).toBe(200);
    await client.closed;
    expect(await stateOf()).toBe('revoked');
    await expect(rawClient(hub.url, credential)).rejects.toThrow('http 403');
    expect((await hub.store.auditLog()).filter((a) => a.action.startsWith('join-token') || a.action === 'node.enroll').map((a) => `${a.action} ${a.target}`)).toEqual([
      `join-token.create ${String(created.body.id)}`,
      'node.enroll ceph-1',
    ]);
  });

  it('refuses a token that is not one (403 with a reason that never echoes it)', async () => {
    const r = await call('POST', '/api/v1/enroll', { token: 'fjt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', node: 'x1', inventory }, null);
    expect(r).toEqual({ status: 403, body: { code: 'JOIN_TOKEN', message: 'unknown join token' } });
  });
});

describe('join tokens are bound to what they were made for (hub hosting the example infra repo)', () => {
  let h: EnrollHub;
  beforeAll(async () => {
    h = await startEnrollHub();
  });
  afterAll(async () => h?.close());
  const enroll = (token: string, node: string) => api(h, 'POST', '/api/v1/enroll', { token, node, inventory: { ...inventory, hostname: node } });
  const usesOf = async (id: string): Promise<number> => ((await api(h, 'GET', '/api/v1/join-tokens')).body.tokens as Array<{ id: string; uses: number }>).find((t) => t.id === id)!.uses;

  it('refuses a ceph-node token for gpu-01, a GPU node declared in Git, and enrolls nothing', async () => {
    const t = await newToken(h, { profile: 'ceph-node' });
    const r = await enroll(t.token, 'gpu-01');
    expect(r).toEqual({ status: 403, body: { code: 'JOIN_TOKEN', message: `node gpu-01 is declared in the infra repo with profile gpu-node, and join token ${t.id} is for profile ceph-node` } });
    expect(await h.hub.store.sql.get("SELECT name FROM nodes WHERE name = 'gpu-01'")).toBeUndefined();
    expect(await usesOf(t.id)).toBe(0);
  });

  it('refuses a token of the right profile that was not made for the declared node', async () => {
    const t = await newToken(h, { profile: 'gpu-node' });
    expect(await enroll(t.token, 'gpu-01')).toEqual({ status: 403, body: { code: 'JOIN_TOKEN', message: 'node gpu-01 is declared in the infra repo: enrolling it needs a join token made for that node (--node gpu-01)' } });
    // The same token still enrolls a name Git does not declare.
    expect((await enroll(t.token, 'gpu-55')).status).toBe(201);
  });

  it('a token made for a node enrolls only that name; made for gpu-01 with its profile, it takes gpu-01 over', async () => {
    const created = await api(h, 'POST', '/api/v1/join-tokens', { profile: 'gpu-node', node: 'gpu-01', uses: 2 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ profile: 'gpu-node', node: 'gpu-01' });
    const token = String(created.body.token);
    expect(await enroll(token, 'gpu-02')).toEqual({ status: 403, body: { code: 'JOIN_TOKEN', message: `join token ${String(created.body.id)} is for node gpu-01, not gpu-02` } });
    const ok = await enroll(token, 'gpu-01');
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ node: 'gpu-01', nodeFile: { path: 'nodes/gpu-01.yaml', status: 'kept' } });
    expect((await api(h, 'GET', '/api/v1/join-tokens')).body.tokens.find((t: { id: string }) => t.id === created.body.id)).toMatchObject({ node: 'gpu-01', uses: 1, nodes: ['gpu-01'] });
  });
});

describe('foundry hub token (CLI on the data dir)', () => {
  it('creates with the pin and url the hub saved, lists with uses, revokes', async () => {
    const dir = tempDir('foundry-token-cli-');
    try {
      const running = await startHub({ dataDir: dir, port: 0, logger: false, publicUrl: 'https://hub.example.eu/' });
      await running.close();
      const cli = (...args: string[]) => spawnSync('node', ['bin/foundry.js', 'hub', 'token', ...args, '--data-dir', dir], { encoding: 'utf8' });
      const created = cli('create', '--ttl', '30m', '--uses', '2', '--profile', 'service-node', '--node', 'svc-09', '--labels', 'zone=fsn1,tier=edge', '--json');
      expect(created.status, created.stderr).toBe(0);
      const out = JSON.parse(created.stdout) as { id: string; token: string; installCommand: string; labels: unknown; hubUrl: string; node: string };
      expect(out.node).toBe('svc-09');
      expect(cli('create', '--node', 'Bad_Name').stderr).toBe('foundry: invalid --node Bad_Name\n');
      expect(decodeJoinToken(out.token)).toMatchObject({ hubUrl: 'https://hub.example.eu', pin: undefined });
      expect(out.labels).toEqual({ zone: 'fsn1', tier: 'edge' });
      expect(out.installCommand).toBe(`curl -fsSL --proto =https https://hub.example.eu/install.sh | sh -s -- --join ${out.token}`);
      expect(cli('create', '--labels', 'novalue').stderr).toBe('foundry: invalid label "novalue": expected key=value\n');
      expect(cli('create', '--ttl', '2w').status).toBe(2);

      const list = cli('list');
      expect(list.stdout.split('\n')[1]).toMatch(new RegExp(`^${out.id} +active +0/2 +service-node `));
      expect(list.stdout).not.toContain(out.token.split('.')[0]);
      expect(cli('revoke', out.id).status).toBe(0);
      expect(JSON.parse(cli('list', '--json').stdout)[0]).toMatchObject({ id: out.id, state: 'revoked' });
      expect(cli('revoke', 'nope').stderr).toBe('foundry: no join token nope\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});


/**
 * Tenant secrets through the hub API (real hub on port 0, hosted repo, SQLite file): write-only, per
 * tenant (another tenant gets 404, like a workspace that does not exist), audited without values, and the
 * value never in the hub's log, its answers or its database files, also for a body that is not JSON.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fleetFiles } from '../workspaces/git-fixture.js';
import { startWsHub, type WsHub } from '../workspaces/hub-fixture.js';

const VALUE = 'sk-proj-Zq8v3-api-secret-marker-51c2';
const logs: string[] = [];
let hub: WsHub;

beforeAll(async () => {
  hub = await startWsHub(fleetFiles({ nodes: 1, gpus: 1 }), ['gpu-01'], { secrets: true, logger: { level: 'debug', stream: { write: (l: string) => void logs.push(l) } } });
  const created = await hub.call('POST', '/api/v1/workspaces', { tenant: 'acme', body: { tenant: 'acme', template: 'tiny', gpus: { count: 1 }, name: 'acme-sec' } });
  expect([created.status, created.json.message]).toEqual([201, undefined]);
}, 60_000);
afterAll(async () => hub?.close());

describe('workspace secrets API', () => {
  const url = '/api/v1/workspaces/acme-sec/secrets';

  it('sets, replaces, lists (never the value) and deletes a secret of the tenant\'s own workspace', async () => {
    const put = await hub.call('PUT', `${url}/openai-api-key`, { tenant: 'acme', body: { value: VALUE } });
    expect([put.status, put.json]).toEqual([201, { workspace: 'acme-sec', name: 'openai-api-key', version: 1 }]);
    const again = await hub.call('PUT', `${url}/openai-api-key`, { tenant: 'acme', body: { value: `${VALUE}-2` } });
    expect([again.status, again.json.version]).toEqual([200, 2]);
    const list = await hub.call('GET', url, { tenant: 'acme' });
    expect(list.status).toBe(200);
    expect(list.json.secrets).toEqual([{ name: 'openai-api-key', version: 2, createdAt: expect.any(String), updatedAt: expect.any(String), updatedBy: 'tenant:user-of-acme' }]);
    // an admin sees it too
    expect((await hub.call('GET', url)).json.secrets.map((s: { name: string }) => s.name)).toEqual(['openai-api-key']);
    await hub.call('PUT', `${url}/tmp`, { tenant: 'acme', body: { value: 'short-lived' } });
    expect((await hub.call('DELETE', `${url}/tmp`, { tenant: 'acme' })).json).toEqual({ workspace: 'acme-sec', name: 'tmp', deleted: true });
    const gone = await hub.call('DELETE', `${url}/tmp`, { tenant: 'acme' });
    expect([gone.status, gone.json.message]).toEqual([404, 'workspace acme-sec has no secret tmp']);
    const actions = (await hub.store.auditLog()).filter((a) => a.action.startsWith('workspace.secret.'));
    expect(actions.map((a) => [a.action, a.target])).toEqual([
      ['workspace.secret.create', 'acme-sec/openai-api-key'],
      ['workspace.secret.replace', 'acme-sec/openai-api-key'],
      ['workspace.secret.create', 'acme-sec/tmp'],
      ['workspace.secret.delete', 'acme-sec/tmp'],
    ]);
  });

  it('another tenant gets 404 for every verb, as for a workspace that does not exist; no credential gets 401', async () => {
    for (const [method, u, body] of [['GET', url, undefined], ['PUT', `${url}/x`, { value: 'stolen' }], ['DELETE', `${url}/openai-api-key`, undefined]] as const) {
      const r = await hub.call(method, u, { tenant: 'globex', body });
      expect([r.status, r.json.message]).toEqual([404, 'no workspace acme-sec']);
      const none = await hub.call(method, u.replace('acme-sec', 'no-such'), { tenant: 'globex', body });
      expect([none.status, none.json.message]).toEqual([404, 'no workspace no-such']);
      expect((await hub.call(method, u, { anonymous: true, body })).status).toBe(401);
    }
    expect((await hub.call('GET', url, { tenant: 'acme' })).json.secrets.map((s: { version: number }) => s.version)).toEqual([2]);
  });

  it('bad input: a bad name, an empty value, extra fields, a body that is not JSON; none is echoed', async () => {
    const bad = await hub.call('PUT', `${url}/bad%20name`, { tenant: 'acme', body: { value: VALUE } });
    expect([bad.status, bad.json.code]).toEqual([400, 'BAD_REQUEST']);
    expect(bad.json.message).toMatch(/^secret name "bad name": use lowercase letters/);
    const empty = await hub.call('PUT', `${url}/k`, { tenant: 'acme', body: { value: '' } });
    expect([empty.status, empty.json.errors]).toEqual([400, ['/value: must NOT have fewer than 1 characters']]);
    const extra = await hub.call('PUT', `${url}/k`, { tenant: 'acme', body: { value: 'x', echo: VALUE } });
    expect(extra.status).toBe(400);
    const notJson = await hub.call('PUT', `${url}/k`, { tenant: 'acme', body: `{"value": "${VALUE}`, headers: { 'content-type': 'application/json' } });
    expect([notJson.status, notJson.json.message]).toEqual([400, 'invalid request body: expected json {"value": "..."}']);
    for (const r of [bad, empty, extra, notJson]) expect(r.text).not.toContain(VALUE);
  });

  it('the value is in no log line, no audit entry and no database file', async () => {
    await hub.call('PUT', `${url}/openai-api-key`, { tenant: 'acme', body: { value: VALUE } });
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.join('\n')).not.toContain(VALUE);
    expect(JSON.stringify(hub.store.db.prepare('SELECT * FROM audit_log').all())).not.toContain(VALUE);
    hub.store.db.pragma('wal_checkpoint(TRUNCATE)');
    const files = readdirSync(hub.dir).filter((f) => f.startsWith('hub.db'));
    expect(files).toContain('hub.db');
    for (const f of files) expect(readFileSync(join(hub.dir, f)).includes(Buffer.from(VALUE)), f).toBe(false);
  });

  it('deleting the workspace deletes its secrets', async () => {
    expect((await hub.call('DELETE', '/api/v1/workspaces/acme-sec', { tenant: 'acme' })).status).toBe(200);
    expect(await hub.store.sql.get("SELECT COUNT(*) AS n FROM workspace_secrets WHERE workspace = 'acme-sec'")).toEqual({ n: 0 });
    expect((await hub.store.auditLog()).at(-1)).toEqual({ actor: 'tenant:user-of-acme', action: 'workspace.secret.delete-all', target: 'acme-sec' });
  });
});
